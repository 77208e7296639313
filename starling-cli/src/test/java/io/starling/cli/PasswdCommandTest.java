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
        CommandLine cl = new CommandLine(new Main());
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
}
