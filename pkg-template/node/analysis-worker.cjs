'use strict';
// The worker thread of remote.cjs: runs one analysis (core.cjs's run, without
// a signal), then answers the calls of its RemoteAnalysis until terminated.

const { parentPort, workerData } = require('node:worker_threads');
const { run } = require('./core.cjs');

const { source, settings, progress, port, flag } = workerData;
const onProgress = progress ? (p) => parentPort.postMessage({ type: 'progress', progress: p }) : undefined;

run(source, { ...settings, onProgress }).then(
  (analysis) => {
    port.on('message', ({ method, args }) => {
      let reply;
      try {
        reply = { value: analysis[method](...args) };
      } catch (err) {
        reply = { error: { code: err.code || 'E_INTERNAL', message: err.message, entry: err.entry } };
      }
      port.postMessage(reply);
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
    });
    parentPort.postMessage({ type: 'ready' });
  },
  (err) => parentPort.postMessage({ type: 'error', code: err.code || 'E_INTERNAL', message: err.message, entry: err.entry }),
);
