package io.starling.store.rocksdb;

import io.starling.broker.store.StoreStatus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.rocksdb.RocksDBException;
import org.rocksdb.Status;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the store writes: the first failed commit and its cause, the recovery, and the identity of the data
 * directory. Every change of state is logged once, with what the operator can do. Written by the committer thread,
 * read from any thread.
 */
final class StoreHealth {

    private static final Logger LOG = LoggerFactory.getLogger(StoreHealth.class);
    private static final long REMIND_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final Path dbDir;
    private final Path lockFile;
    private final Object lockIdentity;
    private final LongAdder refused = new LongAdder();
    private volatile Throwable failure;
    private volatile long failedSinceMillis;
    private volatile boolean fatal;
    private long refusedAtFailure;
    private long lastReminderNanos;

    /** @param dbDir the database directory, whose lock file's identity is taken now */
    StoreHealth(Path dbDir) {
        this.dbDir = dbDir;
        this.lockFile = dbDir.resolve("LOCK");
        this.lockIdentity = identity(lockFile);
    }

    boolean isFailed() {
        return failure != null;
    }

    /** The data directory went away while running: the store cannot write again until the broker restarts. */
    boolean isFatal() {
        return fatal;
    }

    /** Acknowledgements refused because what they depend on was not stored. */
    long refused() {
        return refused.sum();
    }

    void refused(int n) {
        if (n > 0) {
            refused.add(n);
        }
    }

    StoreStatus status() {
        Throwable f = failure;
        if (f == null) {
            long n = refused.sum();
            return n == 0 ? StoreStatus.OK : new StoreStatus(true, null, null, true, n);
        }
        return new StoreStatus(false, describe(f), Instant.ofEpochMilli(failedSinceMillis), !fatal && isNoSpace(f),
                refused.sum());
    }

    /** A commit failed (committer thread). Logs the first failure of a series with its cause and the remedy. */
    void failed(Throwable t) {
        if (failure != null) {
            remind();
            return;
        }
        failedSinceMillis = System.currentTimeMillis();
        refusedAtFailure = refused.sum();
        lastReminderNanos = System.nanoTime();
        failure = t;
        LOG.error("The store in {} cannot write: {}. Nothing that needs the store is acknowledged until it writes again"
                + " (clients get an error reason code or a closed connection and re-send; clean sessions and QoS 0 go on)."
                + " {}", dbDir, describe(t), advice(t));
    }

    /** A commit succeeded (committer thread). */
    void committed() {
        Throwable f = failure;
        if (f == null || fatal) {
            return;
        }
        failure = null;
        LOG.warn("The store in {} writes again after {} s; {} acknowledgement(s) were refused meanwhile", dbDir,
                (System.currentTimeMillis() - failedSinceMillis + 999) / 1000, refused.sum() - refusedAtFailure);
    }

    /**
     * Checks that the database directory is still the one that was opened (committer thread, after each commit):
     * a removed or replaced directory leaves RocksDB writing into files that no longer have a name, which a restart
     * would not find. Returns false, for good, once it is not.
     */
    boolean checkDirectory() {
        if (fatal) {
            return false;
        }
        Object now = identity(lockFile);
        if (lockIdentity == null || Objects.equals(now, lockIdentity)) {
            return true;
        }
        fatal = true;
        if (failure == null) {
            failedSinceMillis = System.currentTimeMillis();
            refusedAtFailure = refused.sum();
        }
        failure = new IOException("the data directory " + dbDir + " was removed or replaced while the broker was running");
        LOG.error("The data directory {} was removed or replaced while the broker was running: what is written now would"
                + " not be found after a restart, so nothing that needs the store is acknowledged any more. Restart the"
                + " broker (with the directory restored from a backup, or with an empty one: the state written since the"
                + " directory went away is lost).", dbDir);
        return false;
    }

    private void remind() {
        long now = System.nanoTime();
        if (now - lastReminderNanos >= REMIND_NANOS) {
            lastReminderNanos = now;
            LOG.error("The store in {} still cannot write ({} s, {} acknowledgement(s) refused so far): {}", dbDir,
                    (System.currentTimeMillis() - failedSinceMillis) / 1000, refused.sum() - refusedAtFailure,
                    describe(failure));
        }
    }

    private static Object identity(Path file) {
        try {
            return Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
        } catch (IOException e) {
            return null;
        }
    }

    private static String describe(Throwable t) {
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }

    private static boolean isNoSpace(Throwable t) {
        if (t instanceof RocksDBException e && e.getStatus() != null) {
            return e.getStatus().getSubCode() == Status.SubCode.NoSpace;
        }
        String m = t.getMessage();
        return m != null && m.contains("No space left");
    }

    private String advice(Throwable t) {
        if (isNoSpace(t)) {
            return "The disk is full: free space on it; the store resumes by itself once there is room (RocksDB checks"
                    + " every few seconds).";
        }
        return "RocksDB does not resume from this kind of error by itself: fix the cause (the disk, its mount, the"
                + " directory's permissions or attributes), then restart the broker; everything acknowledged is on disk.";
    }
}
