package io.starling.it.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.starling.it.LogCapture;
import io.starling.server.StarlingServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The broker warns when the password file can be read or written by others than its owner (its hashes can be
 * attacked offline, users added), and when the ACL file can be written by others (they would decide who may do what):
 * one WARN line naming the file, the permissions and what to do, at start and at every reload. The files are used
 * all the same.
 */
class FilePermissionsTest {

    @TempDir
    Path tmp;

    private StarlingServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static void chmod(Path file, String mode) throws Exception {
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
    }

    @Test
    void filesOnlyTheirOwnerMayChangeOrReadAreNotWarnedAbout() throws Exception {
        Path passwd = Sec.passwordFile(tmp.resolve("passwd"), "alice", "wonderland");
        Path acl = Sec.write(tmp.resolve("acl"), "allow all readwrite #");
        chmod(passwd, "rw-------");
        chmod(acl, "rw-r--r--"); // others may read the rules, not change them
        try (LogCapture log = LogCapture.start()) {
            server = Sec.start(tmp, b -> b.passwordFile(passwd).aclFile(acl));
            assertThat(Sec.connackCode(server.port(), 4, "c1", "alice", "wonderland")).isZero();
            assertThat(log.lines(" is readable by")).isEmpty();
            assertThat(log.lines(" is writable by")).isEmpty();
        }
    }

    @Test
    void looseFilesAreWarnedAboutAtStartAndReload() throws Exception {
        Path passwd = Sec.passwordFile(tmp.resolve("passwd"), "alice", "wonderland");
        Path acl = Sec.write(tmp.resolve("acl"), "allow all readwrite #");
        chmod(passwd, "rw-r--r--");
        chmod(acl, "rw-rw-r--");
        try (LogCapture log = LogCapture.start()) {
            server = Sec.start(tmp, b -> b.passwordFile(passwd).aclFile(acl));
            assertThat(log.lines("The password file " + passwd)).singleElement().asString()
                    .contains("is readable by its group and others (rw-r--r--)").contains("chmod 600");
            assertThat(log.lines("The ACL file " + acl)).singleElement().asString()
                    .contains("is writable by its group (rw-rw-r--)").contains("chmod go-w");
            assertThat(Sec.connackCode(server.port(), 4, "c1", "alice", "wonderland")).as("used all the same").isZero();

            // a changed file is checked again when it is reloaded (the rewrite keeps the permissions)
            Sec.passwordFile(passwd, "alice", "wonderland", "bob", "builder");
            await().atMost(Duration.ofSeconds(15))
                    .until(() -> server.passwordFiles().values().iterator().next().file().version() == 2);
            assertThat(log.lines("The password file " + passwd)).hasSize(2);
        }
    }

    @Test
    void aPasswordFileWritableByOthersIsWarnedAbout() throws Exception {
        Path passwd = Sec.passwordFile(tmp.resolve("passwd"), "alice", "wonderland");
        chmod(passwd, "rw-----w-");
        try (LogCapture log = LogCapture.start()) {
            server = Sec.start(tmp, b -> b.passwordFile(passwd));
            assertThat(log.lines("The password file " + passwd)).singleElement().asString()
                    .contains("is writable by others (rw-----w-)");
        }
    }
}
