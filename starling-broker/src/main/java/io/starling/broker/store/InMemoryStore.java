package io.starling.broker.store;

import io.starling.broker.retain.RetainedStore;

/** Keeps everything in the heap: nothing survives a restart, and everything is "durable" at once. */
public final class InMemoryStore implements Store {

    private final RetainedStore retained = RetainedStore.inMemory();

    @Override
    public RetainedStore retained() {
        return retained;
    }

    @Override
    public void whenDurable(Runnable action, Runnable onFailure) {
        action.run();
    }

    @Override
    public void close() {
    }
}
