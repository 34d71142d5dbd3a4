package dev.curvlab.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
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
        assertTrue(Files.size(dir.resolve("digits_laplace_reliability.png")) > 0);
        JsonNode rows = new ObjectMapper().readTree(dir.resolve("digits_laplace.json").toFile()).get("rows");
        assertEquals(4, rows.size());
        JsonNode map = rows.get(0);
        assertTrue(map.get("accuracy").asDouble() > 0.8, map.toString());
        for (int i = 1; i < 4; i++) {
            JsonNode r = rows.get(i);
            assertTrue(r.get("farConfidence").asDouble() < map.get("farConfidence").asDouble(), r + " vs " + map);
            assertTrue(r.get("priorPrecision").asDouble() > 0 && Double.isFinite(r.get("logEvidence").asDouble()), r.toString());
            assertTrue(Double.isFinite(r.get("nll").asDouble()) && r.get("accuracy").asDouble() > 0.8, r.toString());
        }
    }
}
