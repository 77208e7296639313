package io.starling.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.starling.broker.auth.PasswordFile;
import io.starling.broker.auth.PasswordHash;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code starling passwd}: creating the file, adding, changing and deleting users, reading the password. */
class PasswdCommandTest {

    @TempDir
    Path tmp;

    record Result(int code, String out, String err) {
    }

    private static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine(args);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    private static boolean verifies(Path file, String user, String password) throws Exception {
        PasswordHash h = PasswordFile.read(file).lookup(user);
        return h != null && h.verify(password.getBytes(UTF_8));
    }

    @Test
    void createsTheFileAddsChangesAndDeletesUsers() throws Exception {
        Path file = tmp.resolve("etc/passwd");
        Result r = run("passwd", "--iterations", "1000", "-p", "s3cret", file.toString(), "alice");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("created").contains("added user 'alice'");
        assertThat(verifies(file, "alice", "s3cret")).isTrue();
        assertThat(Files.readString(file)).startsWith("alice:$pbkdf2-sha512$1000$").doesNotContain("s3cret");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");

        assertThat(run("passwd", "--iterations", "1000", "-p", "bobpw", file.toString(), "bob").code()).isZero();
        Result change = run("passwd", "--iterations", "1000", "-p", "new", file.toString(), "alice");
        assertThat(change.code()).isZero();
        assertThat(change.out()).contains("changed the password of 'alice'").doesNotContain("created");
        assertThat(verifies(file, "alice", "new")).isTrue();
        assertThat(verifies(file, "alice", "s3cret")).isFalse();
        assertThat(verifies(file, "bob", "bobpw")).isTrue();
        assertThat(PasswordFile.read(file).users()).containsExactly("alice", "bob");

        Result del = run("passwd", "--delete", file.toString(), "alice");
        assertThat(del.code()).as(del.err()).isZero();
        assertThat(PasswordFile.read(file).users()).containsExactly("bob");
        Result again = run("passwd", "-D", file.toString(), "alice");
        assertThat(again.code()).isEqualTo(1);
        assertThat(again.err()).contains("no user 'alice'");
    }

    @Test
    void defaultIterationsAre210000() throws Exception {
        Path file = tmp.resolve("passwd");
        assertThat(run("passwd", "-p", "pw", file.toString(), "carol").code()).isZero();
        assertThat(PasswordFile.read(file).lookup("carol").iterations()).isEqualTo(210_000);
    }

    @Test
    void readsThePasswordFromStdin() throws Exception {
        Path file = tmp.resolve("passwd");
        InputStream saved = System.in;
        try {
            System.setIn(new ByteArrayInputStream("from stdin\nignored\n".getBytes(UTF_8)));
            Result r = run("passwd", "--stdin", "--iterations", "1000", file.toString(), "dave");
            assertThat(r.code()).as(r.err()).isZero();
            System.setIn(new ByteArrayInputStream(new byte[0]));
            Result empty = run("passwd", "--stdin", "--iterations", "1000", file.toString(), "erin");
            assertThat(empty.code()).isEqualTo(1);
            assertThat(empty.err()).contains("empty password");
        } finally {
            System.setIn(saved);
        }
        assertThat(verifies(file, "dave", "from stdin")).isTrue();
        assertThat(PasswordFile.read(file).users()).containsExactly("dave");
    }

    @Test
    void refusesBadInputWithoutTouchingTheFile() throws Exception {
        Path file = tmp.resolve("passwd");
        assertThat(run("passwd", "--iterations", "1000", "-p", "pw", file.toString(), "a:b").code()).isEqualTo(2);
        assertThat(run("passwd", "--iterations", "10", "-p", "pw", file.toString(), "ok").code()).isEqualTo(2);
        assertThat(run("passwd", "--delete", "-p", "pw", file.toString(), "ok").code()).isEqualTo(2);
        assertThat(run("passwd", "-p", "pw", "--stdin", file.toString(), "ok").code()).isEqualTo(2);
        assertThat(file).doesNotExist();
        Files.writeString(file, "garbage\n");
        Result broken = run("passwd", "--iterations", "1000", "-p", "pw", file.toString(), "ok");
        assertThat(broken.code()).isEqualTo(1);
        assertThat(broken.err()).contains("line 1");
        assertThat(Files.readString(file)).isEqualTo("garbage\n");
    }

    // A user name must come back from the file as it was given: '#' at the start makes a comment, white space at
    // either end is stripped when the file is read (" alice" would become a second "alice" and break the file), ':'
    // is the separator, a control character or line separator would split the line, an unpaired surrogate cannot be
    // written in UTF-8. Each is a usage error (exit 2) with the reason, and the file is left as it was.
    @Test
    void refusesUserNamesTheFileCannotHold() throws Exception {
        Path file = tmp.resolve("passwd");
        assertThat(run("passwd", "--iterations", "1000", "-p", "pw", file.toString(), "alice").code()).isZero();
        String before = Files.readString(file);
        for (String bad : new String[] {"#alice", "# comment", " alice", "alice ", "\talice", "alice\u00A0", "a:b",
            "a\nb", "a\rb", "a\u0000b", "a\u007Fb", "a\u0085b", "a\u2028b", "x\uD800", ""}) {
            Result r = run("passwd", "--iterations", "1000", "-p", "pw", file.toString(), bad);
            assertThat(r.code()).as("'" + bad + "': " + r.err()).isEqualTo(2);
            assertThat(r.err()).as(bad).startsWith("starling passwd: ").containsAnyOf("user name", "empty user name");
        }
        assertThat(Files.readString(file)).isEqualTo(before);
        assertThat(PasswordFile.read(file).users()).containsExactly("alice");
        // names with '#' inside, spaces inside, other scripts and emoji are fine
        for (String ok : new String[] {"a#b", "Alice Liddell", "müller", "用户", "sensor-\uD83D\uDE00"}) {
            Result r = run("passwd", "--iterations", "1000", "-p", "pw-" + ok, file.toString(), ok);
            assertThat(r.code()).as(ok + ": " + r.err()).isZero();
            assertThat(verifies(file, ok, "pw-" + ok)).as(ok).isTrue();
        }
        assertThat(run("passwd", "--iterations", "1000", "-p", "again", file.toString(), "alice").code())
                .as("the file can still be edited").isZero();
    }

    // The rewritten file keeps the owner, group and permissions of the one it replaces (here nobody:nogroup 0640, which
    // needs root to set up), and a symbolic link stays a link to the rewritten file; a file readable by others is kept
    // so, with a warning.
    @Test
    void keepsOwnerGroupAndPermissionsOfTheFile() throws Exception {
        Path file = tmp.resolve("passwd");
        assertThat(run("passwd", "--iterations", "1000", "-p", "pw", file.toString(), "alice").code()).isZero();
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r-----"));
        boolean root = "root".equals(System.getProperty("user.name"));
        if (root) {
            Files.setAttribute(file, "unix:uid", 65_534);
            Files.setAttribute(file, "unix:gid", 65_534);
        }
        Result r = run("passwd", "--iterations", "1000", "-p", "pw", file.toString(), "bob");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).contains("warning").contains("readable by its group");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-r-----");
        if (root) {
            assertThat(Files.getAttribute(file, "unix:uid")).isEqualTo(65_534);
            assertThat(Files.getAttribute(file, "unix:gid")).isEqualTo(65_534);
        }
        assertThat(PasswordFile.read(file).users()).containsExactly("alice", "bob");

        Path link = tmp.resolve("passwd-link");
        Files.createSymbolicLink(link, file);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        Result viaLink = run("passwd", "--iterations", "1000", "-p", "pw", link.toString(), "carol");
        assertThat(viaLink.code()).as(viaLink.err()).isZero();
        assertThat(viaLink.err()).doesNotContain("warning");
        assertThat(Files.isSymbolicLink(link)).isTrue();
        assertThat(PasswordFile.read(file).users()).containsExactly("alice", "bob", "carol");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
    }
}
