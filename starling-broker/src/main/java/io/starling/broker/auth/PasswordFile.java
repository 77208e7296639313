package io.starling.broker.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.NoSuchFileException;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
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
 * {@link PasswordHash}); empty lines and lines starting with {@code #} are ignored, and white space around a line.
 * A user name is everything before the first {@code :}; in a file it must not be empty or contain a {@code :} or a
 * control character. A file with a bad line or a user listed twice is refused as a whole, with the line number in
 * the message. A user added with {@link #with} must also be a name the file gives back as it was
 * ({@link #checkUserName}): not starting with {@code #}, no white space at either end.
 *
 * <p>Immutable: {@link #with} and {@link #without} return new instances, {@link #write} replaces the file atomically
 * (a reader never sees half a file), keeping the owner, group and permissions of the file it replaces; a new file is
 * readable by its owner only.
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
                checkStoredName(name);
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
     * Checks a user name for a new entry: a name the file holds and gives back unchanged, and that an MQTT client can
     * send. Not empty; not starting with {@code #} (the line would be a comment); no white space at the start or end
     * (lines are stripped when read: {@code " alice"} would come back as {@code alice}); no {@code :} (the separator);
     * no control characters (a line break would split the line), no line or paragraph separators; valid Unicode (no
     * unpaired surrogates, which UTF-8 cannot hold); at most 65,535 bytes in UTF-8 (an MQTT string).
     *
     * @throws IllegalArgumentException saying what is wrong with it
     */
    public static void checkUserName(String name) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("empty user name");
        }
        String shown = "user name '" + printable(name) + "'";
        if (name.startsWith("#")) {
            throw new IllegalArgumentException(shown + " starts with '#', which makes its line a comment");
        }
        if (isSpace(name.codePointAt(0)) || isSpace(name.codePointBefore(name.length()))) {
            throw new IllegalArgumentException(shown + " starts or ends with white space, which the file does not keep");
        }
        checkStoredName(name);
        for (int cp : name.codePoints().toArray()) {
            int type = Character.getType(cp);
            if (type == Character.LINE_SEPARATOR || type == Character.PARAGRAPH_SEPARATOR) {
                throw new IllegalArgumentException(shown + " contains a line or paragraph separator");
            }
            if (type == Character.SURROGATE) { // code points of a pair come whole: this one is alone
                throw new IllegalArgumentException(shown + " is not valid Unicode (an unpaired surrogate)");
            }
        }
        if (name.getBytes(StandardCharsets.UTF_8).length > 65_535) {
            throw new IllegalArgumentException("user name longer than 65,535 bytes, more than MQTT can carry");
        }
    }

    /** What every name in a file must be: not empty, no {@code :}, no control characters. */
    private static void checkStoredName(String name) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("empty user name");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == ':') {
                throw new IllegalArgumentException("user name '" + printable(name)
                        + "' contains ':', the separator of name and hash");
            }
            if (Character.isISOControl(c)) {
                throw new IllegalArgumentException("user name '" + printable(name)
                        + "' contains a control character (such as a line break or tab)");
            }
        }
    }

    private static boolean isSpace(int codePoint) {
        return Character.isWhitespace(codePoint) || Character.isSpaceChar(codePoint);
    }

    /** The name with control characters and separators shown as {@code U+XXXX}, for messages. */
    private static String printable(String name) {
        StringBuilder b = new StringBuilder(name.length());
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (Character.isISOControl(c) || Character.isSurrogate(c) || Character.getType(c) == Character.LINE_SEPARATOR
                    || Character.getType(c) == Character.PARAGRAPH_SEPARATOR) {
                b.append(String.format("U+%04X", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
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

    /**
     * A copy with the user added, or its hash replaced (in place).
     *
     * @throws IllegalArgumentException for a new user whose name the file cannot hold ({@link #checkUserName})
     */
    public PasswordFile with(String user, PasswordHash hash) {
        if (!users.containsKey(user)) {
            checkUserName(user);
        }
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
     * Writes the file: into a temporary file in the same directory, which then replaces {@code file} atomically, so a
     * reader sees the old file or the new one, never half of one. The replacement gets the owner, group and
     * permissions of the file it replaces (where the file system has POSIX attributes); a new file is readable and
     * writable by its owner only. A symbolic link is followed: its target is replaced, the link stays.
     *
     * @throws IOException if it cannot be written, or the owner or group cannot be kept (the file is then unchanged)
     */
    public void write(Path file) throws IOException {
        Path target = Files.isSymbolicLink(file) ? file.toRealPath() : file;
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        PosixFileAttributes old = null;
        try {
            old = Files.readAttributes(target, PosixFileAttributes.class);
        } catch (NoSuchFileException | UnsupportedOperationException e) {
            // a new file, or no POSIX attributes here
        }
        Path tmp = dir.resolve("." + target.getFileName() + ".tmp");
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
            if (old != null) {
                keepAttributes(tmp, old, target);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Gives {@code tmp} the owner, group and permissions of the file it is to replace. */
    private static void keepAttributes(Path tmp, PosixFileAttributes old, Path file) throws IOException {
        PosixFileAttributeView view = Files.getFileAttributeView(tmp, PosixFileAttributeView.class);
        PosixFileAttributes now = view.readAttributes();
        try {
            if (!now.owner().equals(old.owner())) {
                view.setOwner(old.owner());
            }
            if (!now.group().equals(old.group())) {
                view.setGroup(old.group());
            }
        } catch (IOException e) {
            throw new IOException("cannot keep the owner " + old.owner().getName() + " and group " + old.group().getName()
                    + " of " + file + " (" + e.getMessage() + "); run as its owner or as root", e);
        }
        view.setPermissions(old.permissions());
    }

    @Override
    public String toString() {
        return "PasswordFile[" + users.size() + " users]";
    }
}
