// Validates Kubernetes documents against the Kubernetes and Prometheus Operator schemas.
// kubernetes-models and @kubernetes-models/prometheus-operator are ES modules only, which jest's
// CommonJS runtime cannot load: the tests run this file with node and read its answer.
// stdin: a JSON array of documents. stdout: a JSON array, per document null (valid) or the error.
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';

const MODELS = [DaemonSet, Deployment, Namespace, Secret, Service, NetworkPolicy, PodMonitor, PrometheusRule, ServiceMonitor];

function validate(document) {
  const Model = MODELS.find((model) => model.apiVersion === document?.apiVersion && model.kind === document?.kind);
  if (Model === undefined) return `no schema here for apiVersion ${document?.apiVersion} kind ${document?.kind}`;
  try {
    new Model(document).validate();
    return null;
  } catch (error) {
    return String(error?.message ?? error);
  }
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
process.stdout.write(JSON.stringify(JSON.parse(Buffer.concat(chunks).toString('utf8')).map(validate)));
