package io.starling.store.rocksdb;

import io.starling.broker.retain.RetainedStore;
import io.starling.broker.message.Message;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** Reads retained messages the way a subscription does (walk, page, read from the store), blocking, for tests. */
final class Retained {

    private Retained() {
    }

    /** The current retained messages matching {@code filter}, sorted by topic. */
    static List<Message> match(RetainedStore retained, String filter) {
        List<Message> out = new ArrayList<>();
        RetainedStore.Cursor cursor = retained.cursor(filter);
        while (!cursor.exhausted()) {
            List<RetainedStore.Hit> page = retained.next(cursor, 500, Long.MAX_VALUE);
            CountDownLatch read = new CountDownLatch(1);
            retained.read(page, read::countDown);
            try {
                if (!read.await(30, TimeUnit.SECONDS)) {
                    throw new AssertionError("a page of retained messages was not read within 30 s");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
            for (RetainedStore.Hit h : page) {
                if (h.message() != null && retained.isCurrent(h)) {
                    out.add(h.message());
                }
            }
        }
        out.sort(Comparator.comparing(Message::topic));
        return out;
    }
}
