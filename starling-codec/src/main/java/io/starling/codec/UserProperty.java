package io.starling.codec;

/** An MQTT 5.0 User Property (0x26): a UTF-8 string pair; names may repeat and order is kept. */
public record UserProperty(String name, String value) {
}
