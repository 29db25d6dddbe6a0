import type { SettingsGroup, SettingsReader } from '../src/settings';

export interface RedisSettings {
  readonly redisUrl: string;
}

export const REDIS_SETTINGS = {
  title: 'redis source',
  token: Symbol.for('RedisSettings'),
  settings: [{ name: 'REDIS_URL', default: 'redis://127.0.0.1:6379', meaning: 'Redis (redis:// or rediss://)', secret: 'url' }],
  load: (read: SettingsReader): RedisSettings => ({ redisUrl: read.url('REDIS_URL', ['redis', 'rediss']) }),
} satisfies SettingsGroup<RedisSettings>;
