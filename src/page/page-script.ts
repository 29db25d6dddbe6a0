import { BEARER_SUBPROTOCOL_PREFIX } from '../http/access-control';
import { STREAM_SUBPROTOCOL } from '../live/stream-route';

/**
 * The live page's script: plain ES2017 for the browser, no build step (served as an asset: the
 * Content-Security-Policy allows no inline script). Written without template literals, so it sits
 * in this string unchanged but for the server's own constants, put in where the string is made.
 * It reads the sources from /health, their collections from /stream and the HTTP request totals
 * from /metrics (the stream carries sources only).
 */
export const PAGE_SCRIPT = String.raw`(function () {
  'use strict';
  var TOKEN_KEY = 'iotflow-metrics.token';
  var STREAM_SUBPROTOCOL = ${JSON.stringify(STREAM_SUBPROTOCOL)};
  var BEARER_SUBPROTOCOL_PREFIX = ${JSON.stringify(BEARER_SUBPROTOCOL_PREFIX)};
  var POINTS = 120;
  var RETRY_MS = 5000;

  var areas = window.iotflowAreas;
  var AREAS = areas.AREAS, GENERIC = areas.GENERIC, perSecond = areas.perSecond, defined = areas.defined, rate = areas.rate;

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function time(ms) { return new Date(ms).toLocaleTimeString([], { hour12: false }); }

  function yRange(u, min, max) {
    if (min === null || max === null || !isFinite(min) || !isFinite(max)) return [0, 1];
    var low = Math.min(0, min);
    return [low, max > low ? max + (max - low) * 0.15 : low + 1];
  }

  /** One source's card: its state, numbers and chart. */
  function Card(name, container) {
    this.area = AREAS[name] || GENERIC;
    this.memory = {};
    this.values = {};
    this.lastSuccess = undefined;
    this.points = [[], []];
    this.node = element('section', 'card');
    this.node.dataset.source = name;
    var head = element('div', 'card-head');
    head.appendChild(element('h2', '', this.area.title || name));
    head.appendChild(element('span', 'source', name));
    this.stateNode = head.appendChild(element('span', 'state'));
    this.node.appendChild(head);
    this.whenNode = this.node.appendChild(element('p', 'when', 'not collected yet'));
    this.errorNode = this.node.appendChild(element('p', 'error'));
    var numbers = this.node.appendChild(element('dl', 'numbers'));
    this.numberNodes = {};
    for (var i = 0; i < this.area.numbers.length; i++) {
      var spec = this.area.numbers[i];
      var item = element('div');
      item.dataset.metric = spec[0];
      item.appendChild(element('dt', '', spec[1]));
      this.numberNodes[spec[0]] = item.appendChild(element('dd', '', '–'));
      numbers.appendChild(item);
    }
    if (this.area.chart) {
      this.node.appendChild(element('div', 'chart-title', this.area.chart[1]));
      this.chartNode = this.node.appendChild(element('div', 'chart'));
    }
    container.appendChild(this.node);
    this.setState('pending');
  }
  Card.prototype.setState = function (state) {
    this.node.dataset.state = state;
    this.stateNode.textContent = state === 'pending' ? 'waiting' : state;
  };
  Card.prototype.fromHealth = function (health) {
    if (health.lastSuccess) this.lastSuccess = Date.parse(health.lastSuccess);
    if (health.standby) {
      this.setState('standby');
      this.whenNode.textContent = 'collected by another replica';
    } else if (!health.up && health.error !== 'not collected yet') {
      this.failed(health.error, Date.now(), false);
    }
  };
  Card.prototype.collected = function (message) {
    this.setState('up');
    this.errorNode.textContent = '';
    this.lastSuccess = message.timestamp;
    this.whenNode.textContent = 'collected ' + time(message.timestamp);
    this.update(this.area.derive(message, this.memory), message.timestamp);
  };
  Card.prototype.failed = function (error, timestampMs, plot) {
    this.setState('down');
    this.errorNode.textContent = error || 'down';
    this.whenNode.textContent = 'failed ' + time(timestampMs) + (this.lastSuccess ? ' · last success ' + time(this.lastSuccess) : '');
    // A source that is down shows no stale values, and its chart gets a gap.
    this.values = {};
    this.memory = {};
    for (var key in this.numberNodes) this.numberNodes[key].textContent = '–';
    if (plot !== false && this.area.chart) this.plot(timestampMs, null);
  };
  Card.prototype.update = function (values, timestampMs) {
    for (var key in values) this.values[key] = values[key];
    for (var i = 0; i < this.area.numbers.length; i++) {
      var spec = this.area.numbers[i];
      var text = this.values[spec[0]] === undefined ? undefined : spec[2](this.values[spec[0]]);
      this.numberNodes[spec[0]].textContent = text === undefined ? '–' : text;
    }
    if (this.area.chart && this.area.chart[0] in values) this.plot(timestampMs, defined(values[this.area.chart[0]]) ? values[this.area.chart[0]] : null);
  };
  Card.prototype.plot = function (timestampMs, y) {
    var xs = this.points[0];
    var ys = this.points[1];
    xs.push(timestampMs / 1000);
    ys.push(y);
    if (xs.length > POINTS) { xs.shift(); ys.shift(); }
    if (!this.chart) {
      var format = this.area.chart[2];
      this.chart = new uPlot({
        width: Math.max(200, this.chartNode.clientWidth),
        height: 100,
        legend: { show: false },
        cursor: { show: false },
        padding: [6, 4, 0, 0],
        scales: { x: { time: true }, y: { range: yRange } },
        axes: [
          { font: '10px system-ui, sans-serif', size: 20, stroke: '#656d76', ticks: { show: false }, grid: { stroke: '#eaeef2', width: 1 } },
          { font: '10px system-ui, sans-serif', size: 58, stroke: '#656d76', ticks: { show: false }, grid: { stroke: '#eaeef2', width: 1 },
            values: function (u, splits) { return splits.map(function (v) { return format(v) || ''; }); } }
        ],
        series: [{}, { stroke: '#0969da', width: 1.5, fill: 'rgba(9, 105, 218, 0.08)', points: { show: function (u) { return u.data[0].length < 3; } } }]
      }, this.points, this.chartNode);
    } else {
      this.chart.setData(this.points);
    }
  };
  Card.prototype.resize = function () {
    if (this.chart) this.chart.setSize({ width: Math.max(200, this.chartNode.clientWidth), height: 100 });
  };

  var cards = {};
  var sourcesNode = document.getElementById('sources');
  var connectionNode = document.getElementById('connection');
  var authForm = document.getElementById('auth');
  var tokenInput = document.getElementById('token');
  var authError = document.getElementById('auth-error');
  var httpMemory = {};
  var retryTimer;

  function cardOf(name) {
    if (!cards[name]) cards[name] = new Card(name, sourcesNode);
    return cards[name];
  }
  function setConnection(state, text) {
    connectionNode.dataset.state = state;
    connectionNode.textContent = text;
  }
  function token() { return sessionStorage.getItem(TOKEN_KEY) || ''; }
  function authHeaders() { return token() ? { Authorization: 'Bearer ' + token() } : {}; }
  function base64url(text) {
    var binary = '';
    new TextEncoder().encode(text).forEach(function (b) { binary += String.fromCharCode(b); });
    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }
  function retryLater() {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(probe, RETRY_MS);
  }

  function askForToken(refused) {
    setConnection('refused', 'token required');
    authError.textContent = refused ? 'The token was refused (401). Enter it again.' : '';
    authForm.hidden = false;
    tokenInput.focus();
  }
  authForm.addEventListener('submit', function (event) {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, tokenInput.value.trim());
    tokenInput.value = '';
    authForm.hidden = true;
    probe();
  });

  /** Sums http_requests_total out of /metrics and shows its rate on the exporter's card. */
  function recordHttp(text) {
    var total = 0;
    var lines = text.split('\n');
    for (var i = 0; i < lines.length; i++) {
      if (lines[i].lastIndexOf('http_requests_total', 0) !== 0) continue;
      var fields = lines[i].split(' ');
      total += Number(fields[fields.length - 1]) || 0;
    }
    var now = Date.now();
    cardOf('app').update({ http: perSecond(httpMemory, 'http', total, now) }, now);
  }
  function fetchMetrics() {
    return fetch('/metrics', { headers: authHeaders(), cache: 'no-store' });
  }
  function refreshHttp() {
    fetchMetrics().then(function (response) { return response.ok ? response.text().then(recordHttp) : undefined; }).catch(function () {});
  }

  /** Checks the credentials on /metrics (a refused WebSocket does not say why), then opens the stream. */
  function probe() {
    setConnection('connecting', 'connecting');
    fetchMetrics().then(function (response) {
      if (response.status === 401) {
        var refused = token() !== '';
        sessionStorage.removeItem(TOKEN_KEY);
        askForToken(refused);
        return;
      }
      if (!response.ok) {
        return response.text().then(function (body) {
          setConnection('refused', response.status + ': ' + body.trim());
          retryLater();
        });
      }
      return response.text().then(function (body) {
        recordHttp(body);
        connect();
      });
    }).catch(function () {
      setConnection('closed', 'exporter unreachable');
      retryLater();
    });
  }

  function connect() {
    var protocols = [STREAM_SUBPROTOCOL];
    if (token()) protocols.push(BEARER_SUBPROTOCOL_PREFIX + base64url(token()));
    var socket = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/stream', protocols);
    var opened = false;
    socket.onopen = function () {
      opened = true;
      setConnection('live', 'live');
    };
    socket.onmessage = function (event) {
      var message = JSON.parse(event.data);
      if (!message.source) return;
      var card = cardOf(message.source);
      if (message.up) card.collected(message);
      else card.failed(message.error, message.timestamp);
      if (message.source === 'app' && message.up) refreshHttp();
    };
    socket.onclose = function () {
      setConnection('closed', opened ? 'disconnected, reconnecting' : 'stream refused, retrying');
      retryLater();
    };
  }

  window.addEventListener('resize', function () { for (var name in cards) cards[name].resize(); });

  fetch('/health', { cache: 'no-store' }).then(function (response) { return response.json(); }).then(function (health) {
    for (var name in health.sources) cardOf(name).fromHealth(health.sources[name]);
  }).catch(function () {}).then(probe);
})();
`;
