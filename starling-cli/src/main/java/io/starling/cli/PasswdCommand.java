package io.starling.cli;

import io.starling.broker.auth.PasswordFile;
import io.starling.broker.auth.PasswordHash;
import io.starling.broker.config.ReloadingFile;
import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code starling passwd FILE USER}: adds a user to a password file or changes its password; {@code --delete}
 * removes one. The file is created if missing (readable by its owner only) and always rewritten atomically, keeping
 * its owner, group and permissions; the broker picks the change up within a few seconds. A new user name the file
 * cannot hold as it is ({@link PasswordFile#checkUserName}) is a usage error. Format: see {@link PasswordFile},
 * docs/security.md.
 */
@Command(name = "passwd", mixinStandardHelpOptions = true,
        description = {"Add a user to a password file, change a password, or delete a user.",
            "The password is asked for twice on the terminal, unless -p or --stdin gives it."},
        footer = {"", "Each line of FILE is USER:$pbkdf2-sha512$ITERATIONS$SALT$HASH (PBKDF2-HMAC-SHA512, 16-byte random salt).",
            "A new USER must not be empty, start with '#', start or end with white space, or contain ':', control",
            "characters or line separators. FILE keeps its owner, group and permissions; a new one is readable by its",
            "owner only.",
            "Exit status: 0 done, 1 the file cannot be read or written (or its owner kept), no such user (--delete) or",
            "no password, 2 usage error (including a user name the file cannot hold)."})
public final class PasswdCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FILE", description = "password file (created if missing)")
    Path file;

    @Parameters(index = "1", paramLabel = "USER", description = "user name")
    String user;

    @Option(names = {"-D", "--delete"}, description = "delete USER from FILE")
    boolean delete;

    @Option(names = {"-p", "--password"}, paramLabel = "PASSWORD",
            description = "the password (visible to other users of this machine in the process list: prefer the prompt or --stdin)")
    String password;

    @Option(names = "--stdin", description = "read the password from the first line of standard input")
    boolean stdin;

    @Option(names = "--iterations", paramLabel = "N", defaultValue = "" + PasswordHash.DEFAULT_ITERATIONS,
            description = "PBKDF2 iterations (default ${DEFAULT-VALUE}; at least " + PasswordHash.MIN_ITERATIONS + ")")
    int iterations;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (delete && (password != null || stdin)) {
            err.println("starling passwd: --delete takes no password");
            return 2;
        }
        if (password != null && stdin) {
            err.println("starling passwd: give the password with -p or --stdin, not both");
            return 2;
        }
        if (iterations < PasswordHash.MIN_ITERATIONS) {
            err.println("starling passwd: --iterations must be at least " + PasswordHash.MIN_ITERATIONS);
            return 2;
        }
        PasswordFile current;
        boolean exists = Files.exists(file);
        try {
            current = exists ? PasswordFile.read(file) : PasswordFile.empty();
        } catch (NoSuchFileException e) {
            current = PasswordFile.empty();
            exists = false;
        } catch (IOException | IllegalArgumentException e) {
            err.println("starling passwd: " + file + ": " + e.getMessage());
            return 1;
        }
        if (current.lookup(user) == null) {
            // a new name must come back from the file as it was written (an existing one is taken as it is)
            try {
                PasswordFile.checkUserName(user);
            } catch (IllegalArgumentException e) {
                err.println("starling passwd: " + e.getMessage());
                return 2;
            }
        }
        PasswordFile updated;
        String done;
        if (delete) {
            if (current.lookup(user) == null) {
                err.println("starling passwd: " + file + ": no user '" + user + "'");
                return 1;
            }
            updated = current.without(user);
            done = "deleted user '" + user + "'";
        } else {
            char[] pw = readPassword(err);
            if (pw == null) {
                return 1;
            }
            try {
                updated = current.with(user, PasswordHash.create(pw, iterations));
            } finally {
                Arrays.fill(pw, '\0');
            }
            done = (current.lookup(user) == null ? "added user '" : "changed the password of '") + user + "'";
        }
        try {
            updated.write(file);
        } catch (IOException e) {
            err.println("starling passwd: cannot write " + file + ": " + e.getMessage());
            return 1;
        }
        out.println((exists ? "" : "created " + file + ", ") + done);
        String exposed = ReloadingFile.exposureProblem(file, ReloadingFile.Exposure.OWNER_ONLY);
        if (exposed != null) {
            err.println("starling passwd: warning: " + file + " " + exposed);
        }
        return 0;
    }

    /** The new password from -p, --stdin or the terminal (twice); {@code null} after printing why not. */
    private char[] readPassword(PrintWriter err) {
        char[] pw;
        if (password != null) {
            pw = password.toCharArray();
        } else if (stdin || System.console() == null) {
            try {
                BufferedReader r = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
                String line = r.readLine();
                pw = line == null ? new char[0] : line.toCharArray();
            } catch (IOException e) {
                err.println("starling passwd: cannot read the password: " + e.getMessage());
                return null;
            }
        } else {
            Console console = System.console();
            pw = console.readPassword("Password for %s: ", user);
            char[] again = console.readPassword("Again: ");
            if (pw == null || again == null || !Arrays.equals(pw, again)) {
                err.println("starling passwd: the passwords do not match");
                return null;
            }
            Arrays.fill(again, '\0');
        }
        if (pw.length == 0) {
            err.println("starling passwd: empty password");
            return null;
        }
        return pw;
    }
}
