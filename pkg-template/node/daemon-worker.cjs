'use strict';
// The worker thread of daemon.cjs: asks the daemon for the image's archive
// and writes the answer's body into the shared ring. Its first message says
// how the answer began: { type: 'ok' }, { type: 'status', status, body },
// { type: 'connect-error' | 'error', message }.

const http = require('node:http');
const { parentPort, workerData } = require('node:worker_threads');
const { ioMessage } = require('./common.cjs');
const { RingWriter } = require('./ring.cjs');

const { shared, connect, path, host } = workerData;
const writer = new RingWriter(shared);
// The native client's read timeout.
const TIMEOUT_MS = 300000;

const req = http.request({
  ...connect,
  path,
  method: 'GET',
  headers: { Host: 'docker', 'User-Agent': 'rootless-check', Connection: 'close' },
});
let answered = false;
req.setTimeout(TIMEOUT_MS, () => req.destroy(new Error(`no bytes from ${host} for ${TIMEOUT_MS / 1000} s`)));
req.on('error', (err) => {
  if (!answered) {
    answered = true;
    const connecting = ['ENOENT', 'ECONNREFUSED', 'EACCES', 'ENOTSOCK', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND'].includes(
      err.code,
    );
    parentPort.postMessage({ type: connecting ? 'connect-error' : 'error', message: ioMessage(err) });
  }
  writer.fail();
});
req.on('response', (res) => {
  answered = true;
  if (res.statusCode !== 200) {
    const chunks = [];
    let size = 0;
    res.on('data', (c) => {
      if (size < 4096) chunks.push(c.subarray(0, 4096 - size));
      size += c.length;
    });
    res.on('end', () => {
      parentPort.postMessage({ type: 'status', status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') });
      writer.fail();
    });
    res.on('error', () => {
      parentPort.postMessage({ type: 'status', status: res.statusCode, body: '' });
      writer.fail();
    });
    return;
  }
  parentPort.postMessage({ type: 'ok' });
  res.on('error', () => writer.fail());
  res.on('aborted', () => writer.fail());
  (async () => {
    for await (const chunk of res) {
      if (!(await writer.put(chunk))) {
        res.destroy();
        return;
      }
    }
    // An answer cut short (the connection closed inside it) is a failure.
    if (res.complete) writer.end();
    else writer.fail();
  })().catch(() => writer.fail());
});
req.end();
