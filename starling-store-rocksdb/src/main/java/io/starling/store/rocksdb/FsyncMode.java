package io.starling.store.rocksdb;

import java.util.Locale;

/** When a commit is reported durable (config key {@code fsync}). */
public enum FsyncMode {

    /**
     * {@code fsync: always} (default): every group commit is written to the write-ahead log and fsynced before
     * its acknowledgements go out. An acknowledged message survives a killed process and a power cut, as far
     * as the disk honours fsync.
     */
    ALWAYS,

    /**
     * {@code fsync: os}: every group commit is written to the write-ahead log (a {@code write(2)} into the
     * operating system's page cache) before its acknowledgements go out, without fsync. An acknowledged message
     * survives a killed process (SIGKILL, OOM kill, JVM crash), not a power cut or a kernel crash: the commits
     * of the last seconds before one may be lost (RocksDB then recovers to the last intact commit).
     */
    OS;

    /** The mode of a config value: {@code always} or {@code os}, case-insensitive. */
    public static FsyncMode parse(String value) {
        switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "always":
                return ALWAYS;
            case "os":
                return OS;
            default:
                throw new IllegalArgumentException("fsync must be \"always\" or \"os\", not \"" + value + "\"");
        }
    }

    /** The config value: {@code always} or {@code os}. */
    public String configValue() {
        return name().toLowerCase(Locale.ROOT);
    }
}
