package io.starling.store.rocksdb;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Slice;

/**
 * Deletes the keys of ended session generations in the background, a bounded step per batch ({@link #DELETE_STEP}
 * keys), each key once, never with a range deletion (whose tombstones pile up in the memtable under take-over churn
 * and make every later write and scan slower). Committer thread only.
 */
final class GenerationDeleter implements Committer.Background {

    /** Keys deleted per background step of an ended generation. */
    static final int DELETE_STEP = 1024;

    /** An ended generation whose keys are being deleted. */
    private static final class Deletion {
        final Generation generation;
        /** Index into {@link #spaces} of the key space being deleted. */
        int space;
        /** Where the next step seeks in that space; {@code null} = from the generation's prefix. */
        byte[] cursor;

        Deletion(Generation generation) {
            this.generation = generation;
        }
    }

    private final StoredQueues queues;
    /** The spaces an ended generation is deleted from, the queue (which releases message references) last. */
    private final ColumnFamilyHandle[] spaces;
    /** Ended generations whose keys are still to be deleted, oldest first. */
    private final ArrayDeque<Deletion> deletions = new ArrayDeque<>();

    GenerationDeleter(StoredQueues queues, ColumnFamilyHandle subscriptions, ColumnFamilyHandle inflight,
            ColumnFamilyHandle inbound) {
        this.queues = queues;
        this.spaces = new ColumnFamilyHandle[] {subscriptions, inflight, inbound, queues.queues};
    }

    /** A generation whose end is committed: its keys are to be deleted. */
    void add(Generation ended) {
        deletions.add(new Deletion(ended));
    }

    @Override
    public boolean pending() {
        return !deletions.isEmpty();
    }

    /**
     * Deletes up to {@link #DELETE_STEP} keys of the oldest ended generation, space by space, releasing the message
     * references of its queue entries. The cursor moves on once the step's batch is committed; a failed batch is
     * simply tried again (its reference releases undone).
     */
    @Override
    public void step(Committer.Batch batch) throws RocksDBException {
        Deletion d = deletions.peekFirst();
        int budget = DELETE_STEP;
        int space = d.space;
        byte[] cursor = d.cursor;
        List<Long> released = null;
        while (budget > 0 && space < spaces.length) {
            ColumnFamilyHandle cf = spaces[space];
            byte[] last = null;
            try (Slice upper = new Slice(d.generation.prefixEnd);
                    ReadOptions ro = new ReadOptions().setIterateUpperBound(upper);
                    RocksIterator it = batch.db().newIterator(cf, ro)) {
                it.seek(cursor == null ? d.generation.prefix : cursor);
                for (; it.isValid() && budget > 0; it.next()) {
                    byte[] key = it.key();
                    if (cursor != null && Arrays.equals(key, cursor)) {
                        continue; // deleted by the previous step already
                    }
                    if (cf == queues.queues) {
                        batch.singleDelete(cf, key);
                        long msgId = SessionKeys.msgIdOf(it.value());
                        if (!queues.release(batch, msgId)) {
                            if (released == null) {
                                released = new ArrayList<>();
                            }
                            released.add(msgId);
                        }
                    } else {
                        batch.delete(cf, key);
                    }
                    last = key;
                    budget--;
                }
                it.status();
            }
            if (budget > 0) {
                space++; // this space is done
                cursor = null;
            } else {
                cursor = last;
            }
        }
        int nextSpace = space;
        byte[] nextCursor = cursor;
        batch.afterCommit(() -> {
            d.space = nextSpace;
            d.cursor = nextCursor;
            if (nextSpace >= spaces.length) {
                deletions.pollFirst();
            }
        });
        if (released != null) {
            List<Long> undo = released;
            batch.onFailure(() -> undo.forEach(queues::unrelease));
        }
    }
}
