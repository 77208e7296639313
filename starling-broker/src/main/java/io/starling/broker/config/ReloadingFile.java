package io.starling.broker.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A file that is parsed at start and again whenever it changes: the password file and the ACL file. The owner calls
 * {@link #reloadIfChanged()} periodically (every 2 s in the server); a change of modification time or size is
 * read and parsed, and a file that cannot be read or parsed is logged once (at WARN, with the reason) while the
 * previous contents stay in use. Every successful load increments {@link #version()}.
 *
 * <p>Thread-safety: {@link #reloadIfChanged()} is called from one thread at a time; {@link #current()} and
 * {@link #version()} may be read from any thread, and {@link #loaded()} gives both consistently.
 *
 * @param <T> the parsed contents
 */
public final class ReloadingFile<T> {

    private static final Logger LOG = LoggerFactory.getLogger(ReloadingFile.class);

    /** Reads and parses the file. */
    @FunctionalInterface
    public interface Parser<T> {
        /**
         * @throws IOException if the file cannot be read
         * @throws IllegalArgumentException if it is not valid, with the reason (and line)
         */
        T parse(Path file) throws IOException;
    }

    /**
     * The contents of one successful load.
     *
     * @param value the parsed contents
     * @param version 1 for the load at start, +1 for every reload
     */
    public record Loaded<T>(T value, long version) {
    }

    private final Path path;
    private final String what;
    private final Parser<T> parser;
    private volatile Loaded<T> loaded;
    private volatile long failures;
    private volatile String lastError;
    private Object stamp;

    /**
     * Loads the file.
     *
     * @param what what the file is, for messages ({@code "password file"})
     * @throws IllegalArgumentException naming the file and the reason if it cannot be read or parsed
     */
    public ReloadingFile(Path path, String what, Parser<T> parser) {
        this.path = Objects.requireNonNull(path, "path");
        this.what = what;
        this.parser = parser;
        this.stamp = stampOf(path);
        try {
            this.loaded = new Loaded<>(parser.parse(path), 1);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(what + " " + path + ": " + reason(e), e);
        }
    }

    public Path path() {
        return path;
    }

    /** The contents in use. */
    public T current() {
        return loaded.value();
    }

    /** The number of successful loads: 1 after the start, +1 for every reload. */
    public long version() {
        return loaded.version();
    }

    /** Contents and version of the same load. */
    public Loaded<T> loaded() {
        return loaded;
    }

    /** How many changed versions of the file could not be used (each logged once). */
    public long failures() {
        return failures;
    }

    /** Why the last changed version could not be used, {@code null} if none failed since the last success. */
    public String lastError() {
        return lastError;
    }

    /**
     * Reloads the file if its modification time or size changed since the last attempt. Returns true if new
     * contents are in use; false if nothing changed or the new file is broken (logged, the old contents stay).
     */
    public boolean reloadIfChanged() {
        Object now = stampOf(path);
        if (Objects.equals(now, stamp)) {
            return false;
        }
        stamp = now;
        try {
            T value = parser.parse(path);
            loaded = new Loaded<>(value, loaded.version() + 1);
            lastError = null;
            LOG.info("Reloaded the {} {}", what, path);
            return true;
        } catch (IOException | RuntimeException e) {
            failures++;
            lastError = reason(e);
            LOG.warn("The {} {} changed but cannot be used, keeping the previous version: {}", what, path, lastError);
            return false;
        }
    }

    private static String reason(Exception e) {
        if (e instanceof NoSuchFileException) {
            return "no such file";
        }
        return e.getMessage() != null ? e.getMessage() : e.toString();
    }

    /** Modification time and size, or a marker for a missing/unreadable file. */
    private static Object stampOf(Path p) {
        try {
            BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
            return new Stamp(a.lastModifiedTime(), a.size(), a.fileKey());
        } catch (IOException e) {
            return "unreadable: " + e.getClass().getSimpleName();
        }
    }

    private record Stamp(FileTime modified, long size, Object fileKey) {
    }
}
