package io.starling.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code starling version}: prints the version of this build, as {@code starling --version} does. */
@Command(name = "version", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "Print the version of Starling")
final class VersionCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().getOut().println(Version.line());
        spec.commandLine().getOut().flush();
        return 0;
    }
}
