import type { SettingsGroup, SettingsReader } from '../src/settings';

export interface IotflowSettings {
  readonly deviceOnlineWindowSeconds: number;
}

export const IOTFLOW_SETTINGS = {
  title: 'iotflow source',
  token: Symbol.for('IotflowSettings'),
  settings: [{ name: 'DEVICE_ONLINE_WINDOW_SECONDS', default: '300', meaning: 'a device is online when its last_seen is this recent' }],
  load: (read: SettingsReader): IotflowSettings => ({
    deviceOnlineWindowSeconds: read.integer('DEVICE_ONLINE_WINDOW_SECONDS', 1, 31 * 24 * 3600),
  }),
} satisfies SettingsGroup<IotflowSettings>;
