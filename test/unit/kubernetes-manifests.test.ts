import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import {
  type Doc,
  dockerImage,
  KUSTOMIZATION,
  manifestFiles,
  manifests,
  one,
  onlyContainer,
  parseAll,
  read,
  ROOT,
  schemaErrors,
  SECRET_EXAMPLE,
} from '../support/kubernetes';

// No cluster runs here: the manifests are checked offline, against the Kubernetes and Prometheus
// Operator schemas, and for what the schemas cannot say (security, ports, selectors agreeing).
// The schemas have no word on unknown fields (kubectl --validate=strict has): the security and
// wiring properties are therefore asserted field by field below, not left to the schemas.

const SECRET_VARIABLES = ['DATABASE_URL', 'REDIS_URL', 'MQTT_URL', 'METRICS_TOKEN', 'METRICS_BASIC_AUTH'];

/** The text with the commented lines that follow the line saying "uncomment" uncommented. */
function uncommented(text: string): string {
  const lines = text.split('\n');
  const marker = lines.findIndex((line) => /#.*uncomment/i.test(line));
  if (marker === -1) throw new Error('no line saying "uncomment"');
  let index = marker + 1;
  for (; index < lines.length && /^\s*# /.test(lines[index]); index++) lines[index] = lines[index].replace(/^(\s*)# /, '$1');
  if (index === marker + 1) throw new Error('nothing commented after the "uncomment" line');
  return lines.join('\n');
}

const deployment = () => one('Deployment');
const podSpec = () => deployment().spec.template.spec as Doc;
const container = () => onlyContainer(deployment());
const metricsPort = () => (container().ports as Doc[]).find((port) => port.name === 'metrics') as Doc;

/** A port as a Service, probe or NetworkPolicy gives it (a number or the container port's name), as a number. */
const resolvePort = (port: number | string) =>
  typeof port === 'number' ? port : ((container().ports as Doc[]).find((candidate) => candidate.name === port)?.containerPort as number | undefined);

describe('Kubernetes manifests (deploy/kubernetes)', () => {
  it('every manifest is valid against the Kubernetes and Prometheus Operator schemas', () => {
    const documents = manifests();
    expect(documents.map((document) => document.kind).sort()).toEqual(
      ['Deployment', 'Namespace', 'NetworkPolicy', 'PrometheusRule', 'Service', 'ServiceMonitor'],
    );
    const secretExample = parseAll(read(SECRET_EXAMPLE), SECRET_EXAMPLE);
    const withToken = parseAll(uncommented(read(SECRET_EXAMPLE)), SECRET_EXAMPLE);
    const errors = schemaErrors([...documents, ...secretExample, ...withToken]);
    expect(errors).toEqual(errors.map(() => null));
  });

  it('the schema check rejects a broken copy of each kind of manifest', () => {
    // One deliberate schema error per kind: were the validation a no-op, these would pass.
    const breakers: Record<string, (document: Doc) => void> = {
      Namespace: (document) => (document.spec = { finalizers: 'kubernetes' }),
      Deployment: (document) => (document.spec.template.spec.containers[0].ports[0].containerPort = 'metrics'),
      Service: (document) => (document.spec.ports[0].port = '5000'),
      NetworkPolicy: (document) => (document.spec.ingress[0].from = { podSelector: {} }),
      ServiceMonitor: (document) => (document.spec.endpoints[0].interval = '15 seconds'),
      PrometheusRule: (document) => (document.spec.groups = [{ rules: [] }]),
      Secret: (document) => (document.stringData = { DATABASE_URL: 5432 }),
    };
    const documents = [...manifests(), ...parseAll(read(SECRET_EXAMPLE), SECRET_EXAMPLE)];
    const broken = documents.map((document) => {
      const copy = structuredClone(document);
      const breaker = breakers[copy.kind];
      if (breaker === undefined) throw new Error(`no broken copy for kind ${copy.kind}: add one`);
      breaker(copy);
      return copy;
    });
    const unknownKind = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'x' } };
    const errors = schemaErrors([...broken, unknownKind]);
    errors.forEach((error, index) => expect([index, error]).toEqual([index, expect.any(String)]));
    expect(errors[0]).not.toMatch(/no schema/);
    expect(errors.at(-1)).toMatch(/no schema here for apiVersion example.com\/v1 kind Widget/);
  });

  it('the pod runs as the image\'s non-root user, read-only, with no privilege escalation and no capabilities', () => {
    const pod = podSpec();
    const effective = { ...pod.securityContext, ...container().securityContext } as Doc;
    // The node images' `node` user is uid 1000. USER names a user, not a uid, so the kubelet cannot
    // tell it is not root without runAsUser: it would refuse to start the container.
    const image = dockerImage();
    expect(image.from).toMatch(/^node:/);
    expect(image.user).toBe('node');
    expect(effective.runAsNonRoot).toBe(true);
    expect(effective.runAsUser).toBe(1000);
    expect(effective.runAsGroup).toBe(1000);
    expect(effective.readOnlyRootFilesystem).toBe(true);
    expect(effective.allowPrivilegeEscalation).toBe(false);
    expect(effective.privileged).not.toBe(true);
    expect(effective.capabilities).toEqual({ drop: ['ALL'] });
    expect(effective.seccompProfile).toEqual({ type: 'RuntimeDefault' });
    expect(pod.hostNetwork).not.toBe(true);
    expect(pod.hostPID).not.toBe(true);
    expect(pod.automountServiceAccountToken).toBe(false);
    // The image's CMD runs as built (the exporter writes no file: no writable volume either).
    expect(container().command).toBeUndefined();
    expect(container().args).toBeUndefined();
    const cmd = JSON.parse(image.cmd ?? '[]') as string[];
    expect([cmd[0], cmd.at(-1)]).toEqual(['node', 'dist/container/main.js']);
    expect(container().volumeMounts).toBeUndefined();
    // The namespace enforces the same: Pod Security "restricted".
    expect(one('Namespace').metadata.labels).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'restricted' });
    expect(deployment().metadata.namespace ?? one('Namespace').metadata.name).toBe(one('Namespace').metadata.name);
  });

  it('the image is the version this repository builds', () => {
    const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Doc).version as string;
    expect(container().image).toBe(`iotflow-metrics:${version}`);
    const kustomization = parseAll(read(KUSTOMIZATION), KUSTOMIZATION)[0];
    expect(kustomization.images).toEqual([expect.objectContaining({ name: 'iotflow-metrics', newTag: version })]);
  });

  it('liveness and readiness both probe /health on the metrics port', () => {
    for (const probe of [container().livenessProbe, container().readinessProbe] as Doc[]) {
      expect(probe.httpGet.path).toBe('/health');
      expect(resolvePort(probe.httpGet.port)).toBe(metricsPort().containerPort);
      expect(probe.httpGet.scheme ?? 'HTTP').toBe('HTTP');
    }
  });

  it('requests and a memory limit are set', () => {
    const { requests, limits } = container().resources as Doc;
    expect(requests).toEqual({ cpu: '20m', memory: '96Mi' });
    expect(limits.memory).toBe('160Mi');
  });

  it('the connection URLs and the token come from the Secret, never written in the manifest', () => {
    const env = (container().env ?? []) as Doc[];
    const secretName = parseAll(read(SECRET_EXAMPLE), SECRET_EXAMPLE)[0].metadata.name as string;
    const secretKeys = Object.keys(parseAll(uncommented(read(SECRET_EXAMPLE)), SECRET_EXAMPLE)[0].stringData as Doc);
    const requiredKeys = Object.keys(parseAll(read(SECRET_EXAMPLE), SECRET_EXAMPLE)[0].stringData as Doc);
    expect(container().envFrom).toBeUndefined();
    for (const variable of ['DATABASE_URL', 'REDIS_URL', 'MQTT_URL', 'METRICS_TOKEN']) {
      const entry = env.find((candidate) => candidate.name === variable);
      expect(entry?.valueFrom?.secretKeyRef).toMatchObject({ name: secretName, key: variable });
      expect(secretKeys).toContain(variable);
      // Optional in the Deployment exactly when commented out in the example.
      expect([variable, entry?.valueFrom.secretKeyRef.optional === true]).toEqual([variable, !requiredKeys.includes(variable)]);
    }
    for (const entry of env) {
      if (SECRET_VARIABLES.includes(entry.name)) expect([entry.name, entry.value]).toEqual([entry.name, undefined]);
    }
    expect(parseAll(read(KUSTOMIZATION), KUSTOMIZATION)[0].resources).not.toContain(SECRET_EXAMPLE);
  });

  it('container port = Dockerfile EXPOSE = Service targetPort = the ServiceMonitor\'s port, and the selectors meet', () => {
    const service = one('Service');
    const monitor = one('ServiceMonitor');
    const podLabels = deployment().spec.template.metadata.labels as Doc;
    expect(metricsPort()).toMatchObject({ containerPort: dockerImage().expose, protocol: 'TCP' });
    expect(podLabels).toMatchObject(deployment().spec.selector.matchLabels);
    expect(podLabels).toMatchObject(service.spec.selector);
    const servicePort = (service.spec.ports as Doc[]).find((port) => port.name === 'metrics') as Doc;
    expect(servicePort).toBeDefined();
    expect(resolvePort(servicePort.targetPort)).toBe(metricsPort().containerPort);
    expect(service.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
    expect((monitor.spec.endpoints as Doc[]).map((endpoint) => endpoint.port)).toEqual(['metrics']);
  });

  it('the ServiceMonitor scrapes /metrics every 15 s as the job the rules and prometheus.yml name', () => {
    const [endpoint] = one('ServiceMonitor').spec.endpoints as Doc[];
    expect(endpoint).toMatchObject({ path: '/metrics', interval: '15s' });
    const prometheusJob = (YAML.parse(readFileSync(path.join(ROOT, 'prometheus', 'prometheus.yml'), 'utf8')) as Doc).scrape_configs[0].job_name;
    const jobRelabeling = (endpoint.relabelings as Doc[]).find((relabeling) => relabeling.targetLabel === 'job') as Doc;
    expect(jobRelabeling).toMatchObject({ action: 'replace', replacement: prometheusJob });
    const selectedJobs = new Set([...read('prometheusrule.yaml').matchAll(/job="([^"]*)"/g)].map((match) => match[1]));
    expect([...selectedJobs].filter((job) => job !== prometheusJob)).toEqual([]);
  });

  it('the ServiceMonitor\'s commented bearer token, uncommented, is valid and reads METRICS_TOKEN from the Secret', () => {
    const monitor = parseAll(uncommented(read('servicemonitor.yaml')), 'servicemonitor.yaml')[0];
    const secretName = parseAll(read(SECRET_EXAMPLE), SECRET_EXAMPLE)[0].metadata.name as string;
    expect(monitor.spec.endpoints[0].authorization).toEqual({ type: 'Bearer', credentials: { name: secretName, key: 'METRICS_TOKEN' } });
    expect(schemaErrors([monitor])).toEqual([null]);
  });

  it('the NetworkPolicy admits only Prometheus pods of the monitoring namespace, and only to the metrics port', () => {
    const policy = one('NetworkPolicy');
    expect(deployment().spec.template.metadata.labels).toMatchObject(policy.spec.podSelector.matchLabels);
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec.ingress).toHaveLength(1);
    const [rule] = policy.spec.ingress as Doc[];
    // One peer holding both selectors: Prometheus pods in that namespace. Two peers would admit either.
    expect(rule.from).toEqual([
      {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
        podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } },
      },
    ]);
    expect(rule.ports).toHaveLength(1);
    expect(rule.ports[0].protocol).toBe('TCP');
    expect(resolvePort(rule.ports[0].port)).toBe(metricsPort().containerPort);
  });

  it('the NetworkPolicy lets the pod reach DNS, PostgreSQL, Redis and MQTT only', () => {
    const egress = one('NetworkPolicy').spec.egress as Doc[];
    // A rule without ports would open every port.
    egress.forEach((rule) => expect(rule.ports?.length).toBeGreaterThan(0));
    const opened = egress.flatMap((rule) => (rule.ports as Doc[]).map((port) => `${port.protocol}/${port.port}`)).sort();
    expect(opened).toEqual(['TCP/1883', 'TCP/53', 'TCP/5432', 'TCP/6379', 'TCP/8883', 'UDP/53']);
  });

  it('kustomization.yaml lists every manifest, each once', () => {
    const kustomization = parseAll(read(KUSTOMIZATION), KUSTOMIZATION)[0];
    expect(kustomization).toMatchObject({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization' });
    expect([...kustomization.resources].sort()).toEqual(manifestFiles());
    expect(kustomization.namespace).toBe(one('Namespace').metadata.name);
  });
});
