import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { IClientOptions, MqttClient } from 'mqtt';

type StreamBuilder = (client: MqttClient, options: IClientOptions) => Duplex;

/**
 * The options mqtt.js's connect() derives from an mqtt://, tcp:// or mqtts:// URL (host, port,
 * credentials, `clientId` from the query), under those given; undefined for any other URL.
 */
export function tcpClientOptions(url: string, options: IClientOptions): IClientOptions | undefined {
  const parsed = new URL(url);
  const protocol = parsed.protocol.replace(/:$/, '');
  if (protocol !== 'mqtt' && protocol !== 'tcp' && protocol !== 'mqtts') return undefined;
  const hostname = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  const derived: IClientOptions = { protocol, host: hostname, hostname };
  if (parsed.port !== '') derived.port = Number(parsed.port);
  if (parsed.username !== '') derived.username = decodeURIComponent(parsed.username);
  if (parsed.password !== '') derived.password = decodeURIComponent(parsed.password);
  const clientId = parsed.searchParams.get('clientId');
  if (clientId !== null) derived.clientId = clientId;
  return { ...derived, ...options };
}

const tcpStream: StreamBuilder = (_client, options) =>
  net.createConnection({ port: options.port ?? 1883, host: options.hostname ?? options.host ?? 'localhost' });

/** As mqtt.js's TLS transport: SNI for a host name, verification on unless turned off, an unauthorized peer an error. */
const tlsStream: StreamBuilder = (client, options) => {
  const host = options.hostname ?? options.host ?? 'localhost';
  const rejectUnauthorized = options.rejectUnauthorized !== false;
  const servername = options.servername ?? (net.isIP(host) === 0 ? host : undefined);
  const { path: _path, ...rest } = options as IClientOptions & { path?: string };
  const connection = tls.connect({ ...(rest as tls.ConnectionOptions), host, port: options.port ?? 8883, servername, rejectUnauthorized });
  const onError = (error: Error): void => {
    if (rejectUnauthorized) client.emit('error', error);
    connection.end();
  };
  connection.on('secureConnect', () => {
    if (rejectUnauthorized && !connection.authorized) connection.emit('error', new Error('TLS not authorized'));
    else connection.removeListener('error', onError);
  });
  connection.on('error', onError);
  return connection;
};

/**
 * mqtt.connect(), but an mqtt://, tcp:// or mqtts:// URL gets a client on a plain TCP or TLS socket
 * of our own (mqtt.js documents `new MqttClient(streamBuilder, options)`): its connect() loads every
 * transport on the first call, ws, and its SOCKS proxy support (socks, ip-address, smart-buffer),
 * whatever the URL (README, Footprint).
 * ws:// and wss://, and a SOCKS proxy set in MQTTJS_SOCKS_PROXY, take mqtt.js's connect() as before.
 */
export function connectMqtt(url: string, options: IClientOptions): MqttClient {
  const tcpOptions = process.env['MQTTJS_SOCKS_PROXY'] ? undefined : tcpClientOptions(url, options);
  if (tcpOptions === undefined) return (require('mqtt') as typeof import('mqtt')).connect(url, options);
  const { default: Client } = require('mqtt/lib/client') as { default: typeof MqttClient };
  const stream = tcpOptions.protocol === 'mqtts' ? tlsStream : tcpStream;
  const client = new Client((self) => stream(self, tcpOptions), tcpOptions);
  // As mqtt.connect(): an error with no listener of the caller's never throws.
  client.on('error', () => {});
  return client;
}
