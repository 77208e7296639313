package io.starling.cli.bench;

import io.starling.codec.ProtocolVersion;
import java.util.Locale;
import org.HdrHistogram.Histogram;

/** The end-of-run figures, as text or as one JSON object (field names in docs/bench.md). */
record Summary(Plan plan, BenchOptions o, ProtocolVersion version, Double connectRate, String transport,
        long published, long acked, long delivered, long received, long expectedDelivered,
        long publishedTotal, long ackedTotal, long deliveredTotal, long ackErrors,
        int connected, int connectFailures, int lost, double connectSeconds,
        Histogram latency, Histogram connectLatency, double cpuPercent, String firstError) {

    private double perSecond(long n) {
        return n / o.duration;
    }

    String toText() {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "== %s: %d publishers, %d subscribers, %d connections; QoS %d, %d B, MQTT %s, %s:%d%n",
                plan.scenario(), plan.publishers(), plan.subscribers(), plan.idle(), o.qos, o.payloadSize,
                version.isV5() ? "5" : "3.1.1", o.conn.host(), o.conn.port()));
        b.append(String.format(Locale.ROOT, "window     %.1f s after %.1f s warm-up; rate %s; inflight %d%n", o.duration, o.warmup,
                o.rate > 0 ? o.rate + "/s per publisher" : "flat out", o.inflight));
        if (plan.publishers() > 0) {
            b.append(String.format(Locale.ROOT, "published  %d (%.0f/s)%n", published, perSecond(published)));
            if (o.qos > 0) {
                b.append(String.format(Locale.ROOT, "acked      %d (%.0f/s)%s%n", acked, perSecond(acked),
                        ackErrors > 0 ? ", " + ackErrors + " refused" : ""));
            }
        }
        if (plan.subscribers() > 0) {
            b.append(String.format(Locale.ROOT, "delivered  %d (%.0f/s)%s%n", delivered, perSecond(delivered),
                    expectedDelivered >= 0 ? " of " + expectedDelivered + " expected" : ""));
            b.append(String.format(Locale.ROOT, "received   %d (%.0f/s) arrived in the window%n", received, perSecond(received)));
        }
        if (latency.getTotalCount() > 0) {
            b.append(String.format(Locale.ROOT, "latency ms p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f  mean %.3f%n",
                    pct(latency, 50), pct(latency, 90), pct(latency, 99), pct(latency, 99.9), BenchRun.ms(latency.getMaxValue()),
                    latency.getMean() / 1000));
        }
        b.append(String.format(Locale.ROOT, "clients    %d connected of %d, %d failed, %d lost; connect phase %.2f s", connected,
                plan.total(), connectFailures, lost, connectSeconds));
        if (connectLatency.getTotalCount() > 0) {
            b.append(String.format(Locale.ROOT, "; connack ms p50 %.2f p99 %.2f max %.2f", pct(connectLatency, 50),
                    pct(connectLatency, 99), BenchRun.ms(connectLatency.getMaxValue())));
        }
        b.append(String.format(Locale.ROOT, "%ngenerator  %.0f%% of one core in the window (%s, %d thread%s)", cpuPercent, transport,
                o.threads, o.threads == 1 ? "" : "s"));
        if (firstError != null) {
            b.append(System.lineSeparator()).append("first error: ").append(firstError);
        }
        return b.toString();
    }

    String toJson() {
        Json j = new Json();
        j.field("scenario", plan.scenario()).field("host", o.conn.host()).field("port", o.conn.port())
                .field("mqtt_version", version.isV5() ? "5" : "3.1.1").field("qos", o.qos).field("payload_bytes", o.payloadSize)
                .field("publishers", plan.publishers()).field("subscribers", plan.subscribers()).field("idle_connections", plan.idle())
                .field("rate_per_publisher", o.rate).field("inflight", o.inflight)
                .field("duration_s", o.duration).field("warmup_s", o.warmup)
                .field("published", published).field("acked", acked).field("delivered", delivered)
                .field("expected_delivered", expectedDelivered >= 0 ? expectedDelivered : null)
                .field("published_per_s", perSecond(published)).field("acked_per_s", perSecond(acked))
                .field("delivered_per_s", perSecond(delivered))
                .field("received", received).field("received_per_s", perSecond(received)).field("ack_errors", ackErrors)
                .field("published_total", publishedTotal).field("acked_total", ackedTotal).field("delivered_total", deliveredTotal)
                .field("latency_count", latency.getTotalCount());
        if (latency.getTotalCount() > 0) {
            j.field("latency_p50_ms", pct(latency, 50)).field("latency_p90_ms", pct(latency, 90))
                    .field("latency_p99_ms", pct(latency, 99)).field("latency_p999_ms", pct(latency, 99.9))
                    .field("latency_max_ms", BenchRun.ms(latency.getMaxValue())).field("latency_mean_ms", latency.getMean() / 1000);
        }
        j.field("connections", plan.total()).field("connected", connected).field("connect_failures", connectFailures)
                .field("lost", lost).field("connect_time_s", connectSeconds)
                .field("connect_rate", connectRate);
        if (connectLatency.getTotalCount() > 0) {
            j.field("connack_p50_ms", pct(connectLatency, 50)).field("connack_p99_ms", pct(connectLatency, 99))
                    .field("connack_max_ms", BenchRun.ms(connectLatency.getMaxValue()));
        }
        j.field("gen_cpu_percent", cpuPercent >= 0 ? Math.round(cpuPercent * 10) / 10.0 : null)
                .field("transport", transport).field("threads", o.threads).field("error", firstError);
        return j.end();
    }

    private static double pct(Histogram h, double p) {
        return BenchRun.ms(h.getValueAtPercentile(p));
    }

    /** A flat JSON object. */
    private static final class Json {
        private final StringBuilder b = new StringBuilder("{");

        Json field(String name, Object value) {
            if (b.length() > 1) {
                b.append(',');
            }
            b.append('"').append(name).append("\":");
            if (value == null) {
                b.append("null");
            } else if (value instanceof Double d) {
                b.append(d.isNaN() || d.isInfinite() ? "null" : format(d));
            } else if (value instanceof Number) {
                b.append(value);
            } else {
                quote(value.toString());
            }
            return this;
        }

        private static String format(double d) {
            if (d == Math.rint(d) && Math.abs(d) < 1e15) {
                return Long.toString((long) d);
            }
            return String.format(Locale.ROOT, "%.3f", d);
        }

        private void quote(String s) {
            b.append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c == '"' || c == '\\') {
                    b.append('\\').append(c);
                } else if (c < 0x20) {
                    b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                } else {
                    b.append(c);
                }
            }
            b.append('"');
        }

        String end() {
            return b.append('}').toString();
        }
    }
}
