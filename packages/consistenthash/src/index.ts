export { fnv1a32, fnv1a32Bytes } from "./hash.ts";
export {
  createHashRing,
  type HashFunction,
  type HashRing,
  type HashRingOptions,
  type RingNode,
} from "./ring.ts";
