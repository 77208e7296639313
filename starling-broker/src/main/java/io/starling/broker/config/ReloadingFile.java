package io.starling.broker.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A file that is parsed at start and again whenever it changes: the password file and the ACL file. The owner calls
 * {@link #reloadIfChanged()} periodically (every 2 s in the server); a change of modification time or size is
 * read and parsed, and a file that cannot be read or parsed is logged once (at WARN, with the reason) while the
 * previous contents stay in use. Every successful load increments {@link #version()}. At every successful load the
 * file's POSIX permissions are checked against its {@link Exposure}, and a file others than its owner may read or
 * write when they should not is logged (WARN, with what to do); it is used all the same.
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

    /** Who besides the file's owner may have access to it without a warning. */
    public enum Exposure {
        /** Anyone: no check. */
        ANY,
        /** Nobody else may write it (an ACL file: whoever can write it decides who may do what). */
        OWNER_WRITES,
        /** Nobody else may read or write it (a password file: its hashes can be attacked offline). */
        OWNER_ONLY
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
    private final Exposure exposure;
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
        this(path, what, parser, Exposure.ANY);
    }

    /**
     * Loads the file, and warns if its permissions give others more than {@code exposure} allows.
     *
     * @param what what the file is, for messages ({@code "password file"})
     * @throws IllegalArgumentException naming the file and the reason if it cannot be read or parsed
     */
    public ReloadingFile(Path path, String what, Parser<T> parser, Exposure exposure) {
        this.path = Objects.requireNonNull(path, "path");
        this.what = what;
        this.parser = parser;
        this.exposure = exposure;
        this.stamp = stampOf(path);
        try {
            this.loaded = new Loaded<>(parser.parse(path), 1);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(what + " " + path + ": " + reason(e), e);
        }
        warnIfExposed();
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
            warnIfExposed();
            return true;
        } catch (IOException | RuntimeException e) {
            failures++;
            lastError = reason(e);
            LOG.warn("The {} {} changed but cannot be used, keeping the previous version: {}", what, path, lastError);
            return false;
        }
    }

    /** Logs a warning if the permissions let others than the owner read or write what they should not. */
    private void warnIfExposed() {
        String problem = exposureProblem(path, exposure);
        if (problem != null) {
            LOG.warn("The {} {} {}", what, path, problem);
        }
    }

    /**
     * What is wrong with the file's permissions for {@code exposure}, {@code null} if nothing (or the file system has
     * no POSIX permissions).
     */
    public static String exposureProblem(Path file, Exposure exposure) {
        if (exposure == Exposure.ANY) {
            return null;
        }
        Set<PosixFilePermission> p;
        try {
            p = Files.getPosixFilePermissions(file);
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
        boolean groupWrites = p.contains(PosixFilePermission.GROUP_WRITE);
        boolean othersWrite = p.contains(PosixFilePermission.OTHERS_WRITE);
        boolean groupReads = p.contains(PosixFilePermission.GROUP_READ);
        boolean othersRead = p.contains(PosixFilePermission.OTHERS_READ);
        String mode = PosixFilePermissions.toString(p);
        if (exposure == Exposure.OWNER_ONLY && (groupWrites || othersWrite || groupReads || othersRead)) {
            return "is " + (groupReads || othersRead ? "readable" : "writable") + " by " + who(groupReads || groupWrites,
                    othersRead || othersWrite) + " (" + mode + "): whoever can read it can try to guess the passwords"
                    + " offline, whoever can write it can add users; make it readable by its owner only (chmod 600;"
                    + " starling passwd keeps the permissions it finds)";
        }
        if (exposure == Exposure.OWNER_WRITES && (groupWrites || othersWrite)) {
            return "is writable by " + who(groupWrites, othersWrite) + " (" + mode + "): whoever can write it decides"
                    + " who may publish and subscribe; make it writable by its owner only (chmod go-w)";
        }
        return null;
    }

    private static String who(boolean group, boolean others) {
        return group && others ? "its group and others" : group ? "its group" : "others";
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
