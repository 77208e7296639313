package io.starling.store.rocksdb;

/**
 * The store cannot be opened or cannot go on. The message is meant for the operator as it is: it names the data
 * directory and what to do. The RocksDB error, if any, is the cause.
 */
public final class StoreException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** What went wrong, for callers that react differently (exit codes, tests). */
    public enum Reason {
        /** Another process (or another store in this process) holds the RocksDB lock of the directory. */
        LOCKED,
        /** The files are damaged: unreadable metadata, a broken CURRENT/MANIFEST, an undecodable record. */
        CORRUPT,
        /** Written by a newer Starling: its schema version is higher than this version reads. */
        INCOMPATIBLE,
        /** Something else lives there: a database without a Starling schema version, or stray files. */
        FOREIGN,
        /** The directory cannot be created, read or written (permissions, disk full, I/O error). */
        IO
    }

    private final Reason reason;

    public StoreException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public StoreException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
