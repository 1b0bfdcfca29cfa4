export { createSingleflight, type Singleflight } from "./singleflight.ts";
