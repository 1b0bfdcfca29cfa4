export { createSingleflight, type Flight, type Singleflight } from "./singleflight.ts";
