/**
 * @geecache/core/internal: for transports and other GeeCache libraries only, not for apps. These
 * functions skip ByteView's copies; whoever uses them promises never to write to the bytes.
 * @module
 */
export { adoptBytes, bytesOf } from "./byte-view.ts";
