/**
 * What passes between the transport handlers and the protocol handler of one channel: the lowest layer of the
 * server, imported by both and importing neither.
 */
package io.starling.server.wire;
