'use strict';
// An analysis run in a worker thread (analysis-worker.cjs), for core.cjs:
// with a signal, what would otherwise run synchronously on the calling
// thread (a file compressed as a whole, a pipe, bytes in memory, --verify)
// runs there, so that the calling thread stays free to hear an abort, which
// terminates the worker at once (a bomb may take seconds to decode). The
// Analysis stays in the worker: RemoteAnalysis calls its methods and waits
// for each answer (Atomics.wait), so that it is used as the Analysis is.

const path = require('node:path');
const { Worker, MessageChannel, receiveMessageOnPort } = require('node:worker_threads');
const { codedError, abortReason } = require('./common.cjs');

// A method of a finished analysis answers in milliseconds; this is a worker gone.
const CALL_MS = 60000;
// What the worker is told of the options (a signal and a callback cannot go).
const SETTINGS = ['verify', 'maxDecompressed', 'blockSize', 'gunzipMinBytes', 'parallelMinBytes'];

function remoteError({ code, message, entry }) {
  const err = codedError(code, message);
  if (entry !== undefined) err.entry = entry;
  return err;
}

class RemoteAnalysis {
  constructor(worker, port, flag) {
    this.worker = worker;
    this.port = port;
    this.flag = flag;
    this.freed = false;
  }

  call(method, args) {
    if (this.freed) throw codedError('E_USAGE', 'this analysis was freed');
    Atomics.store(this.flag, 0, 0);
    this.port.postMessage({ method, args });
    const waited = Atomics.wait(this.flag, 0, 0, CALL_MS);
    const reply = receiveMessageOnPort(this.port);
    if (waited === 'timed-out' || !reply) throw codedError('E_INTERNAL', `the analysis worker did not answer ${method}()`);
    if (reply.message.error) throw remoteError(reply.message.error);
    return reply.message.value;
  }

  json() { return this.call('json', []); }
  text(color) { return this.call('text', [color]); }
  sarif() { return this.call('sarif', []); }
  render(format, failOn) { return this.call('render', [format, failOn]); }
  verdicts() { return this.call('verdicts', []); }
  exitLines(failOn) { return this.call('exitLines', [failOn]); }
  exitStatus(failOn) { return this.call('exitStatus', [failOn]); }
  applyIgnores(ignore, ignoreFile) { return this.call('applyIgnores', [ignore, ignoreFile]); }

  free() {
    if (this.freed) return;
    this.freed = true;
    this.port.close();
    this.worker.terminate();
  }
}

/** Analyse `source` ({ fd } or a Uint8Array, copied) in a worker; resolves
 * with a RemoteAnalysis; `options.signal` (given) terminates it. */
function runRemote(source, options) {
  const { signal, onProgress } = options;
  const settings = {};
  for (const k of SETTINGS) if (options[k] !== undefined) settings[k] = options[k];
  const { port1, port2 } = new MessageChannel();
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(path.join(__dirname, 'analysis-worker.cjs'), {
    workerData: { source, settings, progress: typeof onProgress === 'function', port: port2, flag },
    transferList: [port2],
  });
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (err, value) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (err) {
        port1.close();
        worker.terminate();
        reject(err);
      } else resolve(value);
    };
    const onAbort = () => finish(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
    worker.on('message', (msg) => {
      if (msg.type === 'progress') onProgress(msg.progress);
      else if (msg.type === 'error') finish(remoteError(msg));
      else if (msg.type === 'ready') {
        // Its calls wait for their answers: it need not keep the process alive.
        worker.unref();
        finish(null, new RemoteAnalysis(worker, port1, flag));
      }
    });
    worker.on('error', (err) => finish(codedError('E_INTERNAL', `the analysis worker failed: ${err.message}`, err)));
    worker.on('exit', (code) => finish(codedError('E_INTERNAL', `the analysis worker exited with status ${code}`)));
  });
}

module.exports = { runRemote };
