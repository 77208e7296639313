package io.starling.it.reliability;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real small filesystem for storage fault tests: a tmpfs of a given size (to fill it up) or an ext4 image on a
 * loop device (whose directories can be made immutable with {@code chattr +i}, which refuses new files even to
 * root). Needs root, as CI and the development machines have; a test is skipped, with the reason, where mounting
 * is not allowed.
 */
public final class FaultyDisk implements AutoCloseable {

    private final Path mountPoint;
    private final Path image;
    private final List<Path> immutable = new ArrayList<>();
    private int fillers;

    private FaultyDisk(Path mountPoint, Path image) {
        this.mountPoint = mountPoint;
        this.image = image;
    }

    /** A tmpfs of {@code megabytes}. */
    public static FaultyDisk tmpfs(int megabytes) throws IOException {
        Path dir = Files.createTempDirectory("starling-tmpfs-");
        run(true, "mount", "-t", "tmpfs", "-o", "size=" + megabytes + "m", "tmpfs", dir.toString());
        return new FaultyDisk(dir, null);
    }

    /** An ext4 filesystem of {@code megabytes} in an image file, mounted on a loop device. */
    public static FaultyDisk ext4(int megabytes) throws IOException {
        Path image = Files.createTempFile("starling-ext4-", ".img");
        try (var f = new java.io.RandomAccessFile(image.toFile(), "rw")) {
            f.setLength((long) megabytes << 20);
        }
        Path dir = Files.createTempDirectory("starling-ext4-");
        run(true, "mkfs.ext4", "-q", "-F", image.toString());
        run(true, "mount", "-o", "loop", image.toString(), dir.toString());
        return new FaultyDisk(dir, image);
    }

    public Path path(String name) {
        return mountPoint.resolve(name);
    }

    /** Writes a filler file until the filesystem has no space left. */
    public void fill() throws IOException {
        Path filler = mountPoint.resolve("filler-" + (++fillers));
        byte[] chunk = new byte[64 << 10];
        try (OutputStream out = Files.newOutputStream(filler)) {
            while (true) {
                out.write(chunk);
            }
        } catch (IOException e) {
            if (e.getMessage() == null || !e.getMessage().contains("No space left")) {
                throw e;
            }
        }
    }

    /** Deletes the filler files. */
    public void free() throws IOException {
        for (int i = 1; i <= fillers; i++) {
            Files.deleteIfExists(mountPoint.resolve("filler-" + i));
        }
    }

    /** {@code chattr +i}: no file can be created in or removed from the directory, not even by root. */
    public void makeImmutable(Path dir) {
        run(false, "chattr", "+i", dir.toString());
        immutable.add(dir);
    }

    public void makeMutable(Path dir) {
        run(false, "chattr", "-i", dir.toString());
        immutable.remove(dir);
    }

    @Override
    public void close() throws IOException {
        for (Path p : new ArrayList<>(immutable)) {
            makeMutable(p);
        }
        run(false, "umount", "-l", mountPoint.toString());
        Files.deleteIfExists(mountPoint);
        if (image != null) {
            Files.deleteIfExists(image);
        }
    }

    /** Deletes a directory tree (the data directory "removed while running"). */
    public static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static void run(boolean skipIfRefused, String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", command) + " did not finish");
            }
            if (p.exitValue() != 0) {
                if (skipIfRefused) {
                    assumeTrue(false, "cannot run " + String.join(" ", command) + " here: " + out.trim());
                }
                throw new IllegalStateException(String.join(" ", command) + " failed: " + out.trim());
            }
        } catch (IOException e) {
            if (skipIfRefused) {
                assumeTrue(false, "cannot run " + command[0] + " here: " + e);
            }
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
