// mqtt.js over Tern's ws://.../mqtt (MQTT 3.1.1 and 5): connect, subscribe, publish and receive
// at every QoS, retained messages, and messages crossing to a client on the TCP listener.
// TERN_WS_URL (ws://127.0.0.1:PORT/mqtt) and TERN_MQTT_URL (mqtt://127.0.0.1:PORT) name a running
// broker; tests/integration/test_mqtt_websocket.py starts one and runs this file.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';

import mqtt from 'mqtt';

const wsUrl = process.env.TERN_WS_URL;
const tcpUrl = process.env.TERN_MQTT_URL;
if (!wsUrl || !tcpUrl) {
  throw new Error('set TERN_WS_URL and TERN_MQTT_URL');
}

const TIMEOUT_MS = 5000;
const open = [];

after(async () => {
  await Promise.all(open.map((client) => client.endAsync(true)));
});

async function connect(url, clientId, protocolVersion, extra = {}) {
  const client = await mqtt.connectAsync(url, {
    clientId,
    protocolVersion,
    reconnectPeriod: 0,
    connectTimeout: TIMEOUT_MS,
    ...extra,
  });
  open.push(client);
  return client;
}

// Resolves with the next `count` messages the client receives: {topic, payload, qos, retain,
// properties}. Fails after TIMEOUT_MS with what arrived.
function nextMessages(client, count) {
  return new Promise((resolve, reject) => {
    const got = [];
    const timer = setTimeout(() => {
      client.removeListener('message', onMessage);
      reject(new Error(`received ${got.length} of ${count} messages: ${JSON.stringify(got)}`));
    }, TIMEOUT_MS);
    function onMessage(topic, payload, packet) {
      got.push({
        topic,
        payload: payload.toString(),
        qos: packet.qos,
        retain: packet.retain,
        properties: packet.properties,
      });
      if (got.length === count) {
        clearTimeout(timer);
        client.removeListener('message', onMessage);
        resolve(got);
      }
    }
    client.on('message', onMessage);
  });
}

const byTopic = (a, b) => a.topic.localeCompare(b.topic);

for (const protocolVersion of [4, 5]) {
  test(`MQTT ${protocolVersion}: publishes at QoS 0, 1 and 2 come back over WebSocket`, async () => {
    const client = await connect(wsUrl, `js-loop-${protocolVersion}`, protocolVersion);
    const granted = await client.subscribeAsync(`js${protocolVersion}/loop/#`, { qos: 2 });
    assert.deepEqual(granted.map((g) => g.qos), [2]);
    const arriving = nextMessages(client, 3);
    for (const qos of [0, 1, 2]) {
      await client.publishAsync(`js${protocolVersion}/loop/${qos}`, `payload ${qos}`, { qos });
    }
    const got = (await arriving).sort(byTopic);
    assert.deepEqual(
      got.map(({ topic, payload, qos, retain }) => ({ topic, payload, qos, retain })),
      [0, 1, 2].map((qos) => ({
        topic: `js${protocolVersion}/loop/${qos}`,
        payload: `payload ${qos}`,
        qos,
        retain: false,
      })),
    );
  });

  test(`MQTT ${protocolVersion}: messages cross between WebSocket and TCP clients`, async () => {
    const web = await connect(wsUrl, `js-web-${protocolVersion}`, protocolVersion);
    const tcp = await connect(tcpUrl, `js-tcp-${protocolVersion}`, protocolVersion);
    await web.subscribeAsync(`js${protocolVersion}/to-web`, { qos: 1 });
    await tcp.subscribeAsync(`js${protocolVersion}/to-tcp`, { qos: 1 });
    const toWeb = nextMessages(web, 1);
    const toTcp = nextMessages(tcp, 1);
    await tcp.publishAsync(`js${protocolVersion}/to-web`, 'from tcp', { qos: 1 });
    await web.publishAsync(`js${protocolVersion}/to-tcp`, 'from web', { qos: 2 });
    const [webGot] = await toWeb;
    const [tcpGot] = await toTcp;
    assert.equal(webGot.payload, 'from tcp');
    assert.equal(webGot.qos, 1);
    assert.equal(tcpGot.payload, 'from web');
    assert.equal(tcpGot.qos, 1); // granted QoS 1 caps the QoS 2 publish
  });

  test(`MQTT ${protocolVersion}: a retained message reaches a later WebSocket subscriber`, async () => {
    const publisher = await connect(wsUrl, `js-ret-pub-${protocolVersion}`, protocolVersion);
    await publisher.publishAsync(`js${protocolVersion}/state`, 'on', { qos: 1, retain: true });
    const subscriber = await connect(wsUrl, `js-ret-sub-${protocolVersion}`, protocolVersion);
    const arriving = nextMessages(subscriber, 1);
    await subscriber.subscribeAsync(`js${protocolVersion}/state`, { qos: 1 });
    const [got] = await arriving;
    assert.deepEqual(
      { payload: got.payload, qos: got.qos, retain: got.retain },
      { payload: 'on', qos: 1, retain: true },
    );
  });
}

test('MQTT 5: user properties travel over WebSocket', async () => {
  const client = await connect(wsUrl, 'js-props', 5);
  await client.subscribeAsync('js5/props', { qos: 1 });
  const arriving = nextMessages(client, 1);
  await client.publishAsync('js5/props', '{"t":21.5}', {
    qos: 1,
    properties: { userProperties: { unit: 'celsius' }, contentType: 'application/json' },
  });
  const [got] = await arriving;
  assert.equal(got.payload, '{"t":21.5}');
  assert.deepEqual({ ...got.properties.userProperties }, { unit: 'celsius' });
  assert.equal(got.properties.contentType, 'application/json');
});
