import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../streams/config';
import { type Doc, dockerImage, KUSTOMIZATION, manifestFiles, manifests, one, onlyContainer, parseAll, plainEnv, read, ROOT, schemaErrors } from '../support/kubernetes';

// The per-node DaemonSet (deploy/kubernetes/node) beside the elected Deployment (deploy/kubernetes),
// checked offline as kubernetes-manifests.test.ts checks the Deployment.

const NODE = 'node';
const daemonSet = () => one('DaemonSet', NODE);
const deployment = () => one('Deployment');
const nodeContainer = () => onlyContainer(daemonSet());

describe('the per-node DaemonSet (deploy/kubernetes/node)', () => {
  it('every manifest is valid against the Kubernetes and Prometheus Operator schemas', () => {
    const documents = manifests(NODE);
    expect(documents.map(({ kind }) => kind).sort()).toEqual(['DaemonSet', 'Namespace', 'PodMonitor']);
    expect(schemaErrors(documents)).toEqual(documents.map(() => null));
  });

  it('its kustomization lists every manifest once, in its own namespace, with the image this repository builds', () => {
    const kustomization = parseAll(read(path.join(NODE, KUSTOMIZATION)), KUSTOMIZATION)[0];
    expect([...kustomization.resources].sort()).toEqual(manifestFiles(NODE));
    expect(kustomization.namespace).toBe(one('Namespace', NODE).metadata.name);
    expect(kustomization.namespace).not.toBe(one('Namespace').metadata.name);
    const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Doc).version as string;
    expect(kustomization.images).toEqual([expect.objectContaining({ name: 'iotflow-metrics', newTag: version })]);
    expect(nodeContainer().image).toBe(`iotflow-metrics:${version}`);
  });

  it('takes of the node only its network namespace and a read-only /proc, and runs as the image\'s non-root user otherwise restricted', () => {
    const pod = daemonSet().spec.template.spec as Doc;
    const effective = { ...pod.securityContext, ...nodeContainer().securityContext } as Doc;
    expect(effective).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(effective.capabilities).toEqual({ drop: ['ALL'] });
    expect(effective.seccompProfile).toEqual({ type: 'RuntimeDefault' });
    expect(effective.privileged).not.toBe(true);
    expect(pod.hostNetwork).toBe(true);
    expect(pod.hostPID).not.toBe(true);
    expect(pod.hostIPC).not.toBe(true);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.volumes).toEqual([{ name: 'proc', hostPath: { path: '/proc', type: 'Directory' } }]);
    expect(nodeContainer().volumeMounts).toEqual([{ name: 'proc', mountPath: '/host/proc', readOnly: true }]);
    expect(nodeContainer().command).toBeUndefined();
    expect(nodeContainer().args).toBeUndefined();
    // Host access needs Pod Security "privileged"; its own namespace keeps that away from the Deployment's.
    expect(one('Namespace', NODE).metadata.labels).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'privileged' });
  });

  it('its settings are ones the exporter accepts: the host and the exporter only, read from the mounted /proc', () => {
    const env = plainEnv(nodeContainer());
    const config = loadConfig(env);
    expect([...config.sources].sort()).toEqual(['app', 'system']);
    expect(config.systemProcRoot).toBe(nodeContainer().volumeMounts[0].mountPath);
    expect(nodeContainer().env.some((entry: Doc) => entry.valueFrom !== undefined)).toBe(false);
  });

  it('its PodMonitor scrapes every node\'s pod on the metrics port every 15 s as the job the rules select', () => {
    const monitor = one('PodMonitor', NODE);
    expect(daemonSet().spec.template.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
    const [endpoint] = monitor.spec.podMetricsEndpoints as Doc[];
    expect(endpoint).toMatchObject({ port: 'metrics', path: '/metrics', interval: '15s' });
    expect((nodeContainer().ports as Doc[]).find((port) => port.name === 'metrics')?.containerPort).toBe(dockerImage().expose);
    const serviceMonitorJob = (one('ServiceMonitor').spec.endpoints[0].relabelings as Doc[]).find((relabeling) => relabeling.targetLabel === 'job')?.replacement;
    expect((endpoint.relabelings as Doc[]).find((relabeling) => relabeling.targetLabel === 'job')?.replacement).toBe(serviceMonitorJob);
  });
});

describe('the Deployment beside it', () => {
  it('runs several replicas that elect the shared targets and share the telemetry, and leaves the host to the DaemonSet', () => {
    const env = plainEnv(onlyContainer(deployment()));
    const config = loadConfig(env);
    expect(deployment().spec.replicas).toBeGreaterThan(1);
    expect(config.clusterElection).toBe(true);
    expect(env.MQTT_SHARE_GROUP).toBeTruthy();
    expect([...config.sources].sort()).toEqual(['app', 'database', 'iotflow', 'mqtt', 'redis']);
  });

  it('selects none of the DaemonSet\'s pods, nor they its', () => {
    const deploymentLabels = deployment().spec.template.metadata.labels as Doc;
    const nodeLabels = daemonSet().spec.template.metadata.labels as Doc;
    const selects = (selector: Doc, labels: Doc) => Object.entries(selector).every(([key, value]) => labels[key] === value);
    expect(selects(deployment().spec.selector.matchLabels, nodeLabels)).toBe(false);
    expect(selects(daemonSet().spec.selector.matchLabels, deploymentLabels)).toBe(false);
  });
});
