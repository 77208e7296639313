package io.starling.it.limits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.starling.broker.config.BrokerConfig;
import io.starling.broker.session.QueueBudget;
import io.starling.broker.session.Session;
import io.starling.it.Packets;
import io.starling.server.StarlingServer;
import io.starling.testkit.RawClient;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * max-queued-bytes-total: a flood of 2000 messages of 4 KiB (8 MB) to two subscribers that do not read, each allowed
 * far more by its own limits, against a budget of 256 KiB. One is a clean session, whose queue is in memory only; the
 * other a persistent session (RocksDB), whose queue is on disk with a window of it in memory. The budget sheds from
 * them instead of pausing the publisher: the publisher gets every PUBACK and then its PINGRESP while both subscribers
 * are still connected and reading nothing. The clean session loses its oldest messages (counted as its drops) and gets
 * the newest when it reads; the persistent one loses nothing: its window goes back to the disk and it gets all 2000,
 * in order, when it reads. Before, the publisher was paused until those queues went away.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class QueueBudgetTest {

    private static final long BUDGET = 256 * 1024;
    private static final int MESSAGES = 2000;
    private static final int PAYLOAD = 4096;

    @TempDir
    Path dataDir;

    private StarlingServer server;
    private final List<RawClient> open = new ArrayList<>();

    @AfterEach
    void stop() {
        open.forEach(RawClient::close);
        if (server != null) {
            server.close();
        }
    }

    private RawClient connect(String id, int flags) {
        RawClient c = RawClient.connectWithBuffers("127.0.0.1", server.port(), 4096, 0);
        open.add(c);
        c.send(Packets.connect(4, id, flags, 0));
        c.expectPacket(0x20, 0x02, 0x00, 0x00);
        return c;
    }

    private static void subscribe(RawClient c) {
        c.send(Packets.subscribe(4, 1, "qb/#", 1));
        c.expectPacket(0x90, 0x03, 0x00, 0x01, 0x01); // SUBACK, QoS 1 granted
    }

    /** PUBLISH QoS 1 to qb/x with a payload of {@link #PAYLOAD} bytes starting with the message's index. */
    private static byte[] publish(int index) {
        byte[] topic = "qb/x".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        int remaining = 2 + topic.length + 2 + PAYLOAD;
        ByteBuffer b = ByteBuffer.allocate(1 + 2 + remaining);
        b.put((byte) 0x32).put((byte) (remaining % 128 | 0x80)).put((byte) (remaining / 128));
        b.putShort((short) topic.length).put(topic).putShort((short) (index % 65_535 + 1));
        b.putInt(index).put(new byte[PAYLOAD - 4]);
        return b.array();
    }

    /** Reads and acknowledges messages until the one with {@code last} arrives; returns their indexes in order. */
    private static List<Integer> readAll(RawClient c, int last) {
        List<Integer> got = new ArrayList<>();
        while (got.isEmpty() || got.get(got.size() - 1) != last) {
            byte[] p = c.readPacket(Duration.ofSeconds(30));
            assertThat(p).as("message after %s", got.isEmpty() ? "none" : got.get(got.size() - 1)).isNotNull();
            assertThat(p[0] & 0xF6).as("PUBLISH QoS 1").isEqualTo(0x32);
            int at = Packets.bodyOffset(p) + 2 + "qb/x".length();
            c.send(0x40, 0x02, p[at] & 0xFF, p[at + 1] & 0xFF); // PUBACK
            got.add(ByteBuffer.wrap(p, at + 2, 4).getInt());
        }
        return got;
    }

    @Test
    void theBudgetShedsFromSubscribersThatDoNotReadAndThePublisherCarriesOn() throws Exception {
        server = StarlingServer.start(BrokerConfig.builder().port(0).dataDir(dataDir).maxQueuedBytesTotal(BUDGET)
                .maxQueuedMessages(100_000).maxInflightMessages(10).build());
        QueueBudget budget = server.broker().queueBudget();
        RawClient clean = connect("qb-clean", Packets.CLEAN);
        subscribe(clean);
        RawClient stored = connect("qb-stored", 0); // persistent: its queue is on disk
        subscribe(stored);
        // from here on neither reads until the publisher is done

        RawClient publisher = connect("qb-pub", Packets.CLEAN);
        Thread flood = new Thread(() -> {
            try {
                for (int i = 0; i < MESSAGES; i++) {
                    publisher.send(publish(i));
                }
                publisher.send(0xC0, 0x00); // PINGREQ after the flood
            } catch (RuntimeException e) {
                // the socket was closed at the end of the test
            }
        }, "qb-flood");
        flood.setDaemon(true);
        flood.start();
        // every PUBACK, in order, and the PINGRESP (which need not wait for the PUBACKs, as they wait for the disk)
        boolean pingResp = false;
        for (int i = 0; i < MESSAGES || !pingResp; ) {
            byte[] p = publisher.readPacket(Duration.ofSeconds(30));
            assertThat(p).as("PUBACK %d or PINGRESP", i).isNotNull();
            if ((p[0] & 0xFF) == 0xD0) {
                assertThat(p).containsExactly(0xD0, 0x00);
                pingResp = true;
                continue;
            }
            assertThat(p).containsExactly(0x40, 0x02, (i % 65_535 + 1) >> 8, (i % 65_535 + 1) & 0xFF);
            i++;
        }

        // the budget was reached many times over and shed from the two queues, not from elsewhere
        assertThat(budget.shedRounds()).isPositive();
        assertThat(server.broker().metrics().messagesShed.sum()).isPositive();
        assertThat(server.broker().metrics().storedUnloaded.sum()).as("stored deliveries sent back to disk").isPositive();
        Session cleanSession = server.broker().sessions().get("qb-clean");
        long cleanDrops = cleanSession.owner().submit(cleanSession::droppedCount).get();
        assertThat(cleanDrops).isPositive();
        await().atMost(Duration.ofSeconds(30)).until(() -> budget.queuedBytes() < budget.shedMark());

        // the clean session gets what it has in flight and what was left of its queue, the newest last, in order
        List<Integer> cleanGot = readAll(clean, MESSAGES - 1);
        assertThat(cleanGot).isSorted().doesNotHaveDuplicates();
        // counted again now: deliveries still on their way to the subscriber's loop above may have been shed since
        long cleanDropsInAll = cleanSession.owner().submit(cleanSession::droppedCount).get();
        assertThat(cleanGot.size() + cleanDropsInAll).isEqualTo(MESSAGES);
        // and every drop on the broker was one of the clean session's (compared once all its deliveries have arrived)
        assertThat(server.broker().metrics().messagesDropped.sum()).isEqualTo(cleanDropsInAll);
        // the persistent session gets every message, in order, once
        List<Integer> storedGot = readAll(stored, MESSAGES - 1);
        assertThat(storedGot).hasSize(MESSAGES).isSorted().doesNotHaveDuplicates();
    }

    @Test
    void withoutABudgetNothingIsShedAndNobodyPaused() throws Exception {
        server = StarlingServer.start(BrokerConfig.builder().port(0).dataDir(dataDir).maxQueuedBytesTotal(0)
                .maxQueuedMessages(100_000).maxInflightMessages(10).build());
        RawClient clean = connect("qb-clean", Packets.CLEAN);
        subscribe(clean); // reads nothing: its queue grows to 2000 messages, 8 MB
        RawClient publisher = connect("qb-pub", Packets.CLEAN);
        for (int i = 0; i < 200; i++) {
            publisher.send(publish(i));
            publisher.expectPacket(0x40, 0x02, 0x00, i + 1);
        }
        assertThat(server.broker().queueBudget().pauses()).isZero();
        assertThat(server.broker().metrics().messagesDropped.sum()).isZero();
        assertThat(readAll(clean, 199)).hasSize(200).isSorted();
    }
}
