// MQTT.js over ws:// or wss:// against Starling: subscribe, publish QoS 1 to the same topic, wait for it.
// usage: node pubsub.js URL PROTOCOL_VERSION [CA_FILE]   (exit 0 and "ok ..." on success)
'use strict';
const fs = require('fs');
const mqtt = require('mqtt');

const [url, version, caFile] = process.argv.slice(2);
const protocolVersion = Number(version || 4);
const options = {
  protocolVersion,
  clientId: 'mqttjs-' + protocolVersion + '-' + process.pid,
  reconnectPeriod: 0,
  connectTimeout: 10000,
};
if (protocolVersion === 3) {
  options.protocolId = 'MQIsdp'; // MQTT 3.1: MQTT.js asks for the mqttv3.1 WebSocket subprotocol
}
if (caFile) {
  options.ca = fs.readFileSync(caFile);
}
const topic = 'mqttjs/' + protocolVersion + '/' + process.pid;
const payload = 'hello from MQTT.js ' + protocolVersion;
const timer = setTimeout(() => {
  console.error('timeout');
  process.exit(2);
}, 15000);

let done = false;
const client = mqtt.connect(url, options);
client.on('error', (e) => {
  if (done) {
    return; // the broker closes after DISCONNECT; a late write of the closing handshake may race with it
  }
  console.error('error: ' + e.message);
  process.exit(1);
});
client.on('connect', () => {
  client.subscribe(topic, { qos: 1 }, (err) => {
    if (err) {
      console.error('subscribe failed: ' + err.message);
      process.exit(1);
    }
    client.publish(topic, payload, { qos: 1 });
  });
});
client.on('message', (t, m) => {
  if (t === topic && m.toString() === payload) {
    done = true;
    console.log('ok ' + t + ' ' + m.toString());
    clearTimeout(timer);
    client.end(false, () => process.exit(0));
  }
});
