/**
 * Preloaded (`node --expose-gc -r heap-probe.js`) into a server the collector suite watches for
 * leaks: on SIGUSR2 it runs full garbage collections and writes `HEAP_AFTER_GC <bytes>` to stderr.
 * The live heap after a full collection is what a leak grows; RSS also grows while V8 sizes its
 * heap to the allocation rate, and then stays, which is not a leak.
 */
const collect = (globalThis as { gc?: () => void }).gc;
if (!collect) throw new Error('heap-probe needs node --expose-gc');

process.on('SIGUSR2', () => {
  // Twice: the first collection can leave objects that only its finalizers released.
  collect();
  collect();
  process.stderr.write(`HEAP_AFTER_GC ${process.memoryUsage().heapUsed}\n`);
});

export {};
