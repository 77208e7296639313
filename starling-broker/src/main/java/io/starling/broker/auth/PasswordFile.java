package io.starling.broker.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The contents of a password file: one user a line, {@code NAME:$pbkdf2-sha512$ITERATIONS$SALT$HASH} (see
 * {@link PasswordHash}); empty lines and lines starting with {@code #} are ignored. A user name is everything before
 * the first {@code :}; it must not be empty or contain a {@code :} or a control character. A file with a bad line or
 * a user listed twice is refused as a whole, with the line number in the message.
 *
 * <p>Immutable: {@link #with} and {@link #without} return new instances, {@link #write} replaces the file atomically
 * (a reader never sees half a file) and makes it readable by its owner only.
 */
public final class PasswordFile {

    private final Map<String, PasswordHash> users;

    private PasswordFile(Map<String, PasswordHash> users) {
        this.users = users;
    }

    /** A file without users. */
    public static PasswordFile empty() {
        return new PasswordFile(Map.of());
    }

    /**
     * Parses the lines of a password file.
     *
     * @throws IllegalArgumentException naming the line and what is wrong with it
     */
    public static PasswordFile parse(List<String> lines) {
        Map<String, PasswordHash> users = new LinkedHashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int colon = line.indexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("line " + (i + 1) + ": expected NAME:$" + PasswordHash.SCHEME
                        + "$ITERATIONS$SALT$HASH");
            }
            String name = line.substring(0, colon);
            try {
                checkUserName(name);
                PasswordHash hash = PasswordHash.decode(line.substring(colon + 1));
                if (users.putIfAbsent(name, hash) != null) {
                    throw new IllegalArgumentException("user '" + name + "' is listed twice");
                }
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("line " + (i + 1) + ": " + e.getMessage(), e);
            }
        }
        return new PasswordFile(Collections.unmodifiableMap(users));
    }

    /**
     * Reads and parses a password file (UTF-8).
     *
     * @throws IOException if it cannot be read
     * @throws IllegalArgumentException if it is not a valid password file
     */
    public static PasswordFile read(Path file) throws IOException {
        return parse(Files.readAllLines(file, StandardCharsets.UTF_8));
    }

    /**
     * Checks a user name for the file: not empty, no {@code :}, no control characters.
     *
     * @throws IllegalArgumentException if it cannot be stored
     */
    public static void checkUserName(String name) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("empty user name");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == ':' || c < 0x20 || c == 0x7F) {
                throw new IllegalArgumentException("user name '" + name + "' contains ':' or a control character");
            }
        }
    }

    /** The hash of a user's password, {@code null} if there is no such user. */
    public PasswordHash lookup(String user) {
        return user == null ? null : users.get(user);
    }

    /** The user names, in file order. */
    public Set<String> users() {
        return users.keySet();
    }

    public int size() {
        return users.size();
    }

    /** A copy with the user added, or its hash replaced (in place). */
    public PasswordFile with(String user, PasswordHash hash) {
        checkUserName(user);
        Objects.requireNonNull(hash, "hash");
        Map<String, PasswordHash> copy = new LinkedHashMap<>(users);
        copy.put(user, hash);
        return new PasswordFile(Collections.unmodifiableMap(copy));
    }

    /** A copy without the user (the same file if there is no such user). */
    public PasswordFile without(String user) {
        if (!users.containsKey(user)) {
            return this;
        }
        Map<String, PasswordHash> copy = new LinkedHashMap<>(users);
        copy.remove(user);
        return new PasswordFile(Collections.unmodifiableMap(copy));
    }

    /** The lines of the file, in order. */
    public List<String> toLines() {
        List<String> lines = new ArrayList<>(users.size());
        users.forEach((name, hash) -> lines.add(name + ":" + hash.encode()));
        return lines;
    }

    /**
     * Writes the file: into a temporary file in the same directory, readable and writable by the owner only
     * (where the file system has POSIX permissions), which then replaces {@code file} atomically.
     */
    public void write(Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = dir.resolve("." + file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        try {
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            Files.createFile(tmp);
        } catch (FileAlreadyExistsException e) {
            throw new IOException("another writer is using " + tmp, e);
        }
        try {
            Files.write(tmp, toLines(), StandardCharsets.UTF_8);
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    @Override
    public String toString() {
        return "PasswordFile[" + users.size() + " users]";
    }
}
