import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { createFleetDatabase, type FleetDatabase } from '../../demo/fleet-database';
import { get } from '../support/http';
import { killAllMosquittos, startMosquitto, type Mosquitto } from '../support/mosquitto';
import { sparePort } from '../support/ports';
import { eventually, ROOT, spawnService } from '../support/service';
import { INTERVAL_MS, type Replica, view, holds, telemetrySum, publishTelemetry, settledSum, pause } from '../support/replicas';


describe('three replicas against their own Mosquitto and database', () => {
  let broker: Mosquitto;
  let database: FleetDatabase;
  let replicas: Replica[] = [];
  let publisher: MqttClient;
  /** Telemetry counted by the replicas still alive, before the next step publishes. */
  let alive: Replica[] = [];

  beforeAll(async () => {
    [broker, database] = await Promise.all([startMosquitto({ sysInterval: 1 }), createFleetDatabase({ namePrefix: 'iotflow_metrics_test_', devices: 2000, users: 200 })]);
    replicas = await Promise.all(
      ['a', 'b', 'c'].map(async (name) => {
        const service = spawnService({
          SOURCES: 'app,database,iotflow,redis,mqtt',
          COLLECTION_INTERVAL_SECONDS: String(INTERVAL_MS / 1000),
          CLUSTER_ELECTION: 'true',
          DATABASE_URL: database.url,
          MQTT_URL: `mqtt://127.0.0.1:${broker.port}`,
          MQTT_SYS_INTERVAL_SECONDS: '1',
          METRICS_RATE_LIMIT: '0',
        });
        return { name, service, port: await service.ready };
      }),
    );
    alive = [...replicas];
    publisher = await connectAsync(`mqtt://127.0.0.1:${broker.port}`, { clientId: `iotflow-scale-publisher-${process.pid}` });
    // Every replica's telemetry subscription is in place once its mqtt source is up.
    await eventually(
      async () => ((await Promise.all(replicas.map((replica) => view(replica)))).every((shown) => shown?.telemetry === 0) ? true : undefined),
      'every replica to count telemetry',
      100,
      200,
    );
  }, 60_000);

  afterAll(async () => {
    await publisher?.endAsync(true);
    for (const { service } of replicas) {
      service.child.kill('SIGCONT');
      service.child.kill('SIGKILL');
    }
    await Promise.all(replicas.map(({ service }) => service.exited));
    await killAllMosquittos();
    await database?.drop();
  });

  it('exactly one replica holds the election: only it shows devices, the database and the broker statistics', async () => {
    const views = await eventually(async () => {
      const shown = await Promise.all(replicas.map((replica) => view(replica)));
      // Mosquitto's first $SYS round predates every client and reads zeros: wait for a live one.
      const ready = shown.every((one) => one?.leader !== undefined) && (shown.find(holds)?.brokerConnections ?? 0) >= 4;
      return shown.filter(holds).length === 1 && ready ? shown : undefined;
    }, 'one holder with the broker statistics of a live round', 100, 200);
    expect(views.map((shown) => shown!.leader).sort()).toEqual([0, 0, 1]);
    const holder = views.find(holds)!;
    expect(holder.devices).toBe(2000);
    expect(holder.databaseUp).toBe(1);
    expect(holder.brokerConnections).toBeGreaterThanOrEqual(4);
    for (const standby of views.filter((shown) => !holds(shown))) {
      expect(standby).toMatchObject({ devices: undefined, databaseUp: undefined, brokerConnections: undefined, telemetry: 0 });
    }
  });

  it('30,000 QoS 1 telemetry messages: the sum over the replicas is exactly 30,000, and a real Prometheus records the same fleet totals with the shipped rules', async () => {
    await publishTelemetry(publisher, 30_000);
    expect(await settledSum(replicas, 30_000)).toBe(30_000);
    const shares = await Promise.all(replicas.map(async (replica) => (await view(replica))!.telemetry));
    // Each member of the shared subscription got its part (Mosquitto hands them round-robin).
    for (const share of shares) expect(share).toBeGreaterThan(5_000);
    process.stdout.write(`scale-out: 30000 messages counted as ${shares.join(' + ')}\n`);

    const workDir = mkdtempSync(path.join(os.tmpdir(), 'iotflow-scale-prometheus-'));
    const webPort = await sparePort();
    const targets = replicas.map((replica) => `'127.0.0.1:${replica.port}'`).join(', ');
    writeFileSync(
      path.join(workDir, 'prometheus.yml'),
      [
        'global:',
        '  scrape_interval: 1s',
        '  evaluation_interval: 1s',
        'rule_files:',
        `  - ${path.join(ROOT, 'prometheus', 'rules', '*.yml')}`,
        'scrape_configs:',
        '  - job_name: iotflow_metrics',
        '    static_configs:',
        `      - targets: [${targets}]`,
        '',
      ].join('\n'),
    );
    const prometheus = spawn(
      'prometheus',
      [`--config.file=${path.join(workDir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(workDir, 'data')}`, `--web.listen-address=127.0.0.1:${webPort}`],
      { stdio: 'ignore' },
    );
    try {
      const query = async (expression: string): Promise<number | undefined> => {
        const body = JSON.parse((await get(webPort, `/api/v1/query?query=${encodeURIComponent(expression)}`)).body) as { data?: { result: { value: [number, string] }[] } };
        const [first] = body.data?.result ?? [];
        return first ? Number(first.value[1]) : undefined;
      };
      const total = await eventually(async () => {
        const [sum, targetsUp] = await Promise.all([query('sum(iotflow_telemetry_messages_total)'), query('count(up == 1)')]);
        return targetsUp === 3 ? sum : undefined;
      }, 'Prometheus to scrape the three replicas', 150, 200);
      expect(total).toBe(30_000);
      expect(await query('count(iotflow_devices_total)')).toBe(1);
      expect(await query('sum(cluster_leader)')).toBe(1);
      // The fleet totals as the recording rules give them. The exact total is the rule that sums the
      // counters by job: increase() over a window extrapolates to its edges, and Prometheus started
      // after the messages were counted, so any increase() here would be 0 (rates likewise).
      const onlineNow = async () => (await Promise.all(replicas.map((replica) => view(replica)))).find(holds)!.devicesOnline!;
      const onlineBefore = await onlineNow();
      const job = '{job="iotflow_metrics"}';
      const recorded = await eventually(async () => {
        const [telemetry, devices, online, ratio] = await Promise.all(
          ['job:iotflow_telemetry_messages_total:sum', 'job:iotflow_devices_total:max', 'job:iotflow_devices_online:max', 'job:iotflow_devices_online:ratio'].map((rule) => query(rule + job)),
        );
        return telemetry === 30_000 && devices !== undefined && online !== undefined ? { telemetry, devices, online, ratio } : undefined;
      }, 'the recording rules to record the fleet totals', 100, 200);
      const onlineAfter = await onlineNow();
      process.stdout.write(`scale-out: recording rules over the three: ${JSON.stringify(recorded)}; the holder showed ${onlineBefore} → ${onlineAfter} online\n`);
      expect(recorded).toMatchObject({ telemetry: 30_000, devices: 2000 });
      // The fixture's devices fall offline about one a second as their last_seen ages, and the rule lags
      // the holder by a collection, a scrape and an evaluation (a few seconds; 10 allowed on a loaded
      // machine): its value lies within that drift, far from what a sum over replicas would give.
      expect(recorded.online).toBeGreaterThanOrEqual(onlineAfter);
      expect(recorded.online).toBeLessThanOrEqual(onlineBefore + 10);
      expect(recorded.ratio).toBeCloseTo(recorded.online / 2000, 9);
      // A rule evaluated over part of the scrapes would lag; the value holds at the next evaluations too.
      await pause(2000);
      expect(await query('job:iotflow_telemetry_messages_total:sum' + job)).toBe(30_000);
    } finally {
      prometheus.kill('SIGKILL');
      await new Promise((resolve) => prometheus.once('exit', resolve));
      rmSync(workDir, { recursive: true, force: true });
    }
  });

  it('SIGKILL the holder: another shows the shared targets within two intervals, and later telemetry is counted exactly', async () => {
    const views = await Promise.all(replicas.map((replica) => view(replica)));
    const holder = replicas[views.findIndex(holds)]!;
    alive = replicas.filter((replica) => replica !== holder);
    const killedAtMs = Date.now();
    holder.service.child.kill('SIGKILL');
    await holder.service.exited;
    const successor = await eventually(async () => {
      const shown = await Promise.all(alive.map((replica) => view(replica)));
      return shown.filter(holds).length === 1 ? alive[shown.findIndex(holds)] : undefined;
    }, 'a successor', 100, 50);
    const takeoverMs = Date.now() - killedAtMs;
    process.stdout.write(`scale-out: after SIGKILL of the holder, ${successor!.name} showed the shared targets in ${takeoverMs} ms\n`);
    expect(takeoverMs).toBeLessThanOrEqual(2 * INTERVAL_MS);

    const before = await telemetrySum(alive);
    await publishTelemetry(publisher, 10_000);
    expect((await settledSum(alive, before + 10_000)) - before).toBe(10_000);
  });

  it('SIGSTOP the holder for more than two intervals: another takes over, and after SIGCONT both hold for at most one interval', async () => {
    const views = await Promise.all(alive.map((replica) => view(replica)));
    const frozen = alive[views.findIndex(holds)]!;
    const other = alive.find((replica) => replica !== frozen)!;
    const frozenAtMs = Date.now();
    frozen.service.child.kill('SIGSTOP');
    await eventually(async () => (holds(await view(other)) ? true : undefined), 'the other replica to take over', 100, 50);
    const takeoverMs = Date.now() - frozenAtMs;
    await pause(Math.max(0, 2.5 * INTERVAL_MS - (Date.now() - frozenAtMs)));

    // From SIGCONT on, read both replicas every 20 ms for two intervals; an overlap is any reading
    // in which both show the shared targets or both say cluster_leader 1.
    const resumedAtMs = Date.now();
    frozen.service.child.kill('SIGCONT');
    let lastOverlapMs = -1;
    let overlaps = 0;
    let readings = 0;
    while (Date.now() - resumedAtMs < 2 * INTERVAL_MS) {
      const [a, b] = await Promise.all([view(frozen, 3000), view(other, 3000)]);
      readings++;
      const both = (a?.leader === 1 && b?.leader === 1) || (a?.devices !== undefined && b?.devices !== undefined);
      if (both) [lastOverlapMs, overlaps] = [Date.now() - resumedAtMs, overlaps + 1];
      await pause(20);
    }
    process.stdout.write(
      `scale-out: frozen holder ${frozen.name}: ${other.name} took over in ${takeoverMs} ms; after SIGCONT, ${overlaps} of ${readings} readings showed two holders, the last ${lastOverlapMs} ms after SIGCONT\n`,
    );
    expect(takeoverMs).toBeLessThanOrEqual(2 * INTERVAL_MS);
    expect(lastOverlapMs).toBeLessThanOrEqual(INTERVAL_MS);
    // Still one holder afterwards.
    const after = await Promise.all(alive.map((replica) => view(replica)));
    expect(after.filter(holds)).toHaveLength(1);
  });

  it('messages in flight to a replica that dies are lost with it: Mosquitto 2.0.11 does not hand them to another member', async () => {
    // One member frozen (it reads nothing), then killed halfway through a burst: what the broker had
    // given it is what a crash mid-burst loses. The survivor gets every other message.
    const [victim, survivor] = alive as [Replica, Replica];
    const before = (await view(survivor))!.telemetry;
    victim.service.child.kill('SIGSTOP');
    await publishTelemetry(publisher, 3_000);
    victim.service.child.kill('SIGKILL');
    await victim.service.exited;
    await publishTelemetry(publisher, 3_000);
    alive = [survivor];
    await pause(INTERVAL_MS);
    const counted = await eventually(async () => {
      const first = (await view(survivor))!.telemetry;
      await pause(INTERVAL_MS);
      const second = (await view(survivor))!.telemetry;
      return first === second ? second - before : undefined;
    }, 'the survivor to stop counting', 20, 0);
    process.stdout.write(`scale-out: of 6000 messages, the survivor counted ${counted}; ${6000 - counted} went down with the killed member\n`);
    // Every message published after the kill reached the survivor; of the first 3000 it got its round-robin half.
    expect(counted).toBeGreaterThanOrEqual(3_000 + 1_000);
    expect(counted).toBeLessThan(6_000);
  });
});
