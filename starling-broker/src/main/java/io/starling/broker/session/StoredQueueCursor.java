package io.starling.broker.session;

import java.util.HashSet;
import java.util.Set;

/**
 * Where a stored session is in its stored queue ({@code Store.queues()}): its QoS 1/2 deliveries come through the
 * store, each with a queue position, in position order. At most {@link #WINDOW} of them are held in memory while
 * connected, and none while offline: the rest stay on disk, and {@link #lastStoredSeq} &gt; {@link #cursor} says so.
 * When the memory queue runs empty the next page is read after the cursor. An offline queue thus costs no heap however
 * long it grows, and a reconnecting client is fed page by page.
 *
 * <p>The cursor only decides; the session holds the deliveries and asks the store for pages. Confined to the
 * session's owner loop.
 */
final class StoredQueueCursor {

    /** Most stored deliveries held in memory while connected; the rest are paged in from the store. */
    static final int WINDOW = 512;
    /** Stored deliveries read from the store at a time. */
    static final int PAGE_SIZE = 256;

    /** Highest stored queue position held in memory, sent or done. */
    private long cursor;
    /** Highest stored queue position known to exist; above {@link #cursor} while some are only on disk. */
    private long lastStoredSeq;
    private boolean pageRequested;
    /** Positions of recovered in-flight deliveries, not to be queued again when their page is read. */
    private Set<Long> recoveredInflight;
    /** Changes when the stored queue is dropped, so that a page read before that is ignored. */
    private int pageEpoch;

    /** A session restored from the store: its queue goes up to {@code lastSeq}, none of it in memory yet. */
    void restore(long lastSeq, Set<Long> recoveredInflightSeqs) {
        lastStoredSeq = lastSeq;
        recoveredInflight = recoveredInflightSeqs.isEmpty() ? null : new HashSet<>(recoveredInflightSeqs);
    }

    /** Whether a delivery at {@code seq} is already accounted for (came in with a page, or the queue was dropped). */
    boolean isPast(long seq) {
        return seq <= cursor;
    }

    /**
     * A stored delivery from the store, not {@link #isPast past}: whether it is taken into memory now (the cursor moves
     * to it), which it is only if nothing older is still on disk and the memory queue, holding {@code inMemory} of
     * them, has room ({@code connected}: {@link #WINDOW}; offline: none). Otherwise it stays on disk.
     */
    boolean take(long seq, int inMemory, boolean connected) {
        int window = connected ? WINDOW : 0;
        if (lastStoredSeq > cursor || inMemory >= window) {
            lastStoredSeq = Math.max(lastStoredSeq, seq); // stays on disk until its page is read
            return false;
        }
        cursor = seq;
        lastStoredSeq = cursor;
        return true;
    }

    /** Whether a page should be read now: some are on disk only, and none is being read. */
    boolean needsPage() {
        return lastStoredSeq > cursor && !pageRequested;
    }

    /** A page is being read from {@link #after()}; until {@link #pageArrived}, no other is asked for. */
    void pageRequested() {
        pageRequested = true;
    }

    boolean isPageRequested() {
        return pageRequested;
    }

    /** The position a page is read after. */
    long after() {
        return cursor;
    }

    /** Every position up to this one is committed when a page is asked for now. */
    long upTo() {
        return lastStoredSeq;
    }

    /** Changes when the stored queue is dropped: a page asked for under another epoch is ignored. */
    int epoch() {
        return pageEpoch;
    }

    /** The page asked for has arrived (under the current epoch). */
    void pageArrived() {
        pageRequested = false;
    }

    /**
     * A delivery of the page, in order: whether it goes to the memory queue. Not if it is past already, nor if it is
     * in flight already (recovered): it is re-sent from there.
     */
    boolean acceptFromPage(long seq) {
        if (seq <= cursor) {
            return false;
        }
        cursor = seq;
        return recoveredInflight == null || !recoveredInflight.remove(seq);
    }

    /**
     * The page is handled. A short page means the store had nothing more when it was read, so every position up to
     * {@code upTo} (all committed before the read was asked for) is accounted for.
     */
    void pageDone(int size, long upTo) {
        if (size < PAGE_SIZE) {
            cursor = Math.max(cursor, upTo);
        }
        lastStoredSeq = Math.max(lastStoredSeq, cursor);
    }

    /**
     * The stored deliveries from {@code fromSeq} on went back from memory to the store: the cursor moves back before
     * them, so that they are read again once the queue has drained. Every position below the cursor that is not in
     * memory is in flight or done, so the new cursor is exact.
     */
    void unloaded(long fromSeq) {
        lastStoredSeq = Math.max(lastStoredSeq, cursor);
        cursor = fromSeq - 1;
    }

    /** The stored queue is dropped with the rest of the session's state (Clean Start). */
    void clear() {
        cursor = lastStoredSeq;
        recoveredInflight = null;
        pageEpoch++;
        pageRequested = false;
    }
}
