import os from 'node:os';
import type { MetricDescriptor, Sample } from '../../src/source';
import type { HostCollector } from './collector';

/**
 * Collector `info`: system_info{os,kernel,arch,cpu_model} 1. From node:os rather than
 * systeminformation: platform, release and arch are the values systeminformation's osInfo()
 * reports too, and the model is the raw one that its cpu() reformats; node:os needs no module
 * loaded and no child process.
 */

export const INFO_METRICS: readonly MetricDescriptor[] = [
  { name: 'system_info', help: 'Host description, value 1: operating system, kernel release, architecture and CPU model', type: 'gauge', labelNames: ['os', 'kernel', 'arch', 'cpu_model'] },
];

export function infoSamples(host: { platform: string; release: string; arch: string; cpus: readonly os.CpuInfo[] }): Sample[] {
  const labels = { os: host.platform, kernel: host.release, arch: host.arch, cpu_model: host.cpus[0]?.model.trim() ?? '' };
  return [{ name: 'system_info', labels, value: 1 }];
}

export class InfoCollector implements HostCollector {
  readonly metrics = INFO_METRICS;
  private readonly samples = infoSamples({ platform: os.platform(), release: os.release(), arch: os.arch(), cpus: os.cpus() });

  async collect(): Promise<Sample[]> {
    return this.samples;
  }
}
