// The entry of a decoding thread (decode-thread.ts): a worker starts without the main thread's
// TypeScript loader, so it registers tsx's before it loads the worker's module.
import { register } from 'tsx/esm/api'

register()
await import('./decode-thread-worker.ts')
