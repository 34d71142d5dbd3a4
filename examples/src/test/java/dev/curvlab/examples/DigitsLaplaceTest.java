package dev.curvlab.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The digits CNN Laplace example end to end: outputs exist, accuracy holds, confidence far from the data falls with every Laplace posterior. */
class DigitsLaplaceTest {
    @TempDir
    Path dir;

    @Test
    void laplaceLowersConfidenceFarFromTheDataForTheCnn() throws Exception {
        int code = new CommandLine(new DigitsLaplace()).execute("--epochs", "4", "--out", dir.toString());
        assertEquals(0, code);
        LaplaceRows.check(dir, "digits_laplace", 0.8);
    }
}
