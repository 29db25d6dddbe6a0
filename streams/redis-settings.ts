import type { SettingsGroup, SettingsReader } from '../src/settings';
import { type SourceTls, sourceTls, sourceTlsSettings } from '../src/tls-files';

export interface RedisSettings {
  readonly redisUrl: string;
  /** CA, client certificate and key for a rediss:// URL, read at start; absent: Node's trusted CAs, no client certificate. */
  readonly redisTls?: SourceTls;
}

export const REDIS_SETTINGS = {
  title: 'redis source',
  token: Symbol.for('RedisSettings'),
  settings: [
    { name: 'REDIS_URL', default: 'redis://127.0.0.1:6379', meaning: 'Redis (redis:// or rediss://)', secret: 'url' },
    ...sourceTlsSettings('REDIS', 'a rediss:// REDIS_URL'),
  ],
  load: (read: SettingsReader): RedisSettings => {
    const redisUrl = read.url('REDIS_URL', ['redis', 'rediss']);
    return { redisUrl, redisTls: sourceTls('REDIS', 'REDIS_URL', redisUrl, ['rediss'], (name) => read.given(name)) };
  },
} satisfies SettingsGroup<RedisSettings>;
