#!/usr/bin/env node
// Usage: node .ci/smoke.js REPORT.json [SERVER_PATTERN]
// Starts the service as the Docker image does (the Dockerfile's ENV lines and CMD, run in the current
// directory, node found on PATH) on a free port, and checks each answer a Prometheus or a live page
// gets: the text, OpenMetrics, protobuf and gzip scrapes, /stream and /health (whose "server" must
// match SERVER_PATTERN when given), then a clean stop on SIGTERM. Each check counts as one test in
// REPORT.json ({"passed":N,"failed":N}). Needs Node 22 or later (fetch and WebSocket).
'use strict';
const { spawn } = require('node:child_process');
const { readFileSync, writeFileSync } = require('node:fs');

const [reportFile, serverPattern] = process.argv.slice(2);
const STARTUP_MS = 30_000;

function imageCommand(dockerfile) {
  const cmd = /^CMD (\[.*\])$/m.exec(dockerfile);
  if (!cmd) throw new Error('the Dockerfile has no CMD ["…"] line');
  const env = Object.fromEntries([...dockerfile.matchAll(/^ENV (\w+)=(\S+)$/gm)].map((match) => [match[1], match[2]]));
  return { argv: JSON.parse(cmd[1]), env };
}

function start({ argv, env }) {
  const child = spawn(argv[0], argv.slice(1), {
    env: { PATH: process.env.PATH, ...env, HOST: '127.0.0.1', PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  const port = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening on" within ${STARTUP_MS / 1000} s:\n${output}`)), STARTUP_MS);
    const onOutput = (chunk) => {
      output += chunk;
      const match = /listening on [^\s,]+:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout.on('data', onOutput);
    child.stderr.on('data', onOutput);
    exited.then((status) => reject(new Error(`exited (${status}) before listening:\n${output}`)));
  });
  return { child, port, exited, output: () => output };
}

const expect = (condition, message) => {
  if (!condition) throw new Error(message);
};

/** Polls /health until the system source has collected once (the first collection starts with the service). */
async function systemSourceUp(base) {
  const deadline = Date.now() + STARTUP_MS;
  while (Date.now() < deadline) {
    const health = await (await fetch(`${base}/health`)).json();
    if (health.sources.system?.up) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the system source is not up within ${STARTUP_MS / 1000} s`);
}

async function scrape(base, headers) {
  const response = await fetch(`${base}/metrics`, { headers });
  expect(response.status === 200, `status ${response.status}`);
  return response;
}

/** The first varint-delimited MetricFamily: its length prefix, then field 1 (name) as a string. */
function firstFamilyName(bytes) {
  let length = 0;
  let shift = 0;
  let at = 0;
  for (; bytes[at] & 0x80; at++, shift += 7) length |= (bytes[at] & 0x7f) << shift;
  length |= bytes[at++] << shift;
  expect(length > 0 && at + length <= bytes.length, `delimited length ${length} does not fit ${bytes.length} bytes`);
  expect(bytes[at] === 0x0a, `first field tag 0x${bytes[at].toString(16)}, expected 0x0a (name)`);
  return Buffer.from(bytes.subarray(at + 2, at + 2 + bytes[at + 1])).toString('utf8');
}

function firstStreamMessage(base) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${base.replace('http', 'ws')}/stream?sources=system`);
    const timer = setTimeout(() => reject(new Error('no message within 10 s')), 10_000);
    socket.onmessage = (event) => {
      clearTimeout(timer);
      socket.close();
      resolve(JSON.parse(event.data));
    };
    socket.onerror = (event) => reject(new Error(`WebSocket error: ${event.message ?? event.type}`));
  });
}

const checks = {
  'text 0.0.4': async (base) => {
    const response = await scrape(base, {});
    expect(/^text\/plain; version=0\.0\.4/.test(response.headers.get('content-type')), `content-type ${response.headers.get('content-type')}`);
    expect(/^collector_up\{source="system"\} 1$/m.test(await response.text()), 'no collector_up{source="system"} 1');
  },
  'OpenMetrics 1.0': async (base) => {
    const response = await scrape(base, { Accept: 'application/openmetrics-text; version=1.0.0' });
    expect(response.headers.get('content-type').startsWith('application/openmetrics-text'), `content-type ${response.headers.get('content-type')}`);
    expect((await response.text()).endsWith('# EOF\n'), 'no "# EOF" at the end');
  },
  protobuf: async (base) => {
    const response = await scrape(base, { Accept: 'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited' });
    expect(response.headers.get('content-type').startsWith('application/vnd.google.protobuf'), `content-type ${response.headers.get('content-type')}`);
    const name = firstFamilyName(new Uint8Array(await response.arrayBuffer()));
    expect(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name), `first family name ${JSON.stringify(name)}`);
  },
  gzip: async (base) => {
    const response = await scrape(base, { 'Accept-Encoding': 'gzip' });
    expect(response.headers.get('content-encoding') === 'gzip', `content-encoding ${response.headers.get('content-encoding')}`);
    expect((await response.text()).includes('# TYPE collector_up gauge'), 'the gunzipped body has no collector_up');
  },
  '/stream': async (base) => {
    const message = await firstStreamMessage(base);
    expect(message.source === 'system' && message.up === true && message.metrics.length > 0, `first message ${JSON.stringify(message).slice(0, 200)}`);
  },
  '/health': async (base) => {
    const response = await fetch(`${base}/health`);
    expect(response.status === 200, `status ${response.status}`);
    const { server } = await response.json();
    expect(!serverPattern || new RegExp(serverPattern).test(server), `server ${JSON.stringify(server)} does not match /${serverPattern}/`);
  },
};

async function main() {
  const dockerfile = readFileSync('Dockerfile', 'utf8');
  const command = imageCommand(dockerfile);
  console.log(`smoke: ${process.version}: ${JSON.stringify(command)}`);
  const service = start(command);
  let passed = 0;
  let failed = 0;
  const record = (name, error) => {
    if (error) failed++;
    else passed++;
    console.log(error ? `FAIL ${name}: ${error.message}` : `ok   ${name}`);
  };
  try {
    const base = `http://127.0.0.1:${await service.port}`;
    await systemSourceUp(base);
    record('starts and collects');
    for (const [name, check] of Object.entries(checks)) {
      try {
        await check(base);
        record(name);
      } catch (error) {
        record(name, error);
      }
    }
    service.child.kill('SIGTERM');
    const status = await service.exited;
    record('exits 0 on SIGTERM', status === 0 ? undefined : new Error(`exit ${status}:\n${service.output().slice(-1000)}`));
  } catch (error) {
    record('starts and collects', error);
    service.child.kill('SIGKILL');
  }
  writeFileSync(reportFile, JSON.stringify({ passed, failed }));
  process.exitCode = failed === 0 ? 0 : 1;
}

main();
