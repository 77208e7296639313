package io.starling.broker.store;

/**
 * Read-only figures of a store that writes to disk, for the metrics: read from any thread, cheaply (counters the
 * committer keeps, the size of the files of the data directory), and where each commit batch is reported.
 */
public interface StoreStats {

    /** Told about each commit batch, on the store's committer thread, after the batch's write returned. */
    @FunctionalInterface
    interface CommitObserver {
        /** Does nothing. */
        CommitObserver NONE = (nanos, operations, bytes) -> { };

        /**
         * @param nanos how long the write (and its fsync, if configured) took
         * @param operations the writes of the batch (puts and deletes)
         * @param bytes the size of the batch's data
         */
        void committed(long nanos, int operations, long bytes);
    }

    /** Batches committed since the store opened. */
    long commits();

    /** Bytes of the batches committed since the store opened (their data as handed to the write-ahead log). */
    long bytesWritten();

    /** Bytes of the files of the store's directory now: tables, write-ahead log, manifests. */
    long diskUsedBytes();

    /** Bytes (message weights, as {@code max-stored-bytes-total} counts them) in the stored queues now. */
    long queuedBytes();

    /** Reports every commit batch from now on to {@code observer} (replacing the previous one). */
    void observeCommits(CommitObserver observer);
}
