package io.starling.broker.metrics;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A counter that several event loops add to on every message, without sharing a cache line: each thread adds to a
 * slot of its own (chosen by its thread id; slots 128 bytes apart), and {@link #sum} adds the slots up when the
 * figure is read (a scrape, a {@code $SYS} update).
 *
 * <p>Why not {@link java.util.concurrent.atomic.LongAdder}: it spreads over cells only once a compare-and-set on its
 * base fails. Two event loops that count the same messages one after the other rarely fail it, so every add moves
 * the base's cache line from one core to the other: measured on {@code bench/compare.sh} s2 (QoS 1 pairs) as several
 * per cent of throughput with a dozen counters per message. Here an add is one atomic add on a line that stays in
 * its core's cache. Two threads whose ids are equal modulo {@value #SLOTS} share a slot, which is correct (the add is
 * atomic), only slower.
 *
 * <p>About 2 KiB per counter: for the counters of the message path, not for those of rare events.
 */
public final class StripedCounter {

    /** Slots; a power of two, above the number of threads that count (event loops, committer, sweepers). */
    private static final int SLOTS = 16;
    /** Longs between two slots: 128 bytes, two cache lines (adjacent-line prefetching). */
    private static final int SPACING = 16;
    private static final VarHandle CELLS = MethodHandles.arrayElementVarHandle(long[].class);

    /** Slot {@code i} at {@code (i + 1) * SPACING}: the first line, next to the array's header, is left empty. */
    private final long[] cells = new long[(SLOTS + 2) * SPACING];

    /** Adds {@code x} (negative to subtract). */
    public void add(long x) {
        CELLS.getAndAdd(cells, slot(), x);
    }

    public void increment() {
        add(1);
    }

    public void decrement() {
        add(-1);
    }

    /** The total: exact when no add runs meanwhile, otherwise one of the values the counter went through or close. */
    public long sum() {
        long s = 0;
        for (int i = 1; i <= SLOTS; i++) {
            s += (long) CELLS.getVolatile(cells, i * SPACING);
        }
        return s;
    }

    @Override
    public String toString() {
        return Long.toString(sum());
    }

    private static int slot() {
        return (((int) Thread.currentThread().getId() & (SLOTS - 1)) + 1) * SPACING;
    }
}
