package io.starling.server.protocol;

import io.netty.util.concurrent.EventExecutor;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * One {@link ConnectionSweeper} per event loop, started when the loop's first connection asks for it. Thread-safe.
 */
public final class ConnectionSweepers {

    private final LongSupplier nanoClock;
    private final Map<EventExecutor, ConnectionSweeper> byLoop = new ConcurrentHashMap<>();

    /** @param nanoClock the clock of every deadline of the server's connections */
    public ConnectionSweepers(LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
    }

    /** The clock of the deadlines. */
    public LongSupplier nanoClock() {
        return nanoClock;
    }

    /** The sweeper of {@code loop}; the first call for a loop starts its periodic task. */
    public ConnectionSweeper of(EventExecutor loop) {
        ConnectionSweeper s = byLoop.get(loop);
        return s != null ? s : byLoop.computeIfAbsent(loop, l -> ConnectionSweeper.startOn(l, nanoClock));
    }
}
