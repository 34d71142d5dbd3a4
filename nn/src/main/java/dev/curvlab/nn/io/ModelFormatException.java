package dev.curvlab.nn.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Thrown when a model file ({@code .json} architecture or {@code .npy} parameters, see
 * {@link ModelFile}) is malformed or does not fit the model it is read for.
 *
 * <p>The message has the form {@code "<path>: <location>: <problem>"}, where the location is a
 * JSON path with the line and column, e.g.
 * {@code "model.json: layers[1].activation (line 4, column 52): unknown activation 'tahn'; known: ..."},
 * or just {@code "line 3, column 7"} for broken JSON. Problems that concern a whole file (a
 * parameter vector of the wrong length) have no location part.
 */
public class ModelFormatException extends IOException {

    private static final long serialVersionUID = 1L;

    private final String source;
    private final String location;
    private final String problem;

    /**
     * @param source the offending file path or resource name ({@code null} if unknown)
     * @param location where in the file, e.g. {@code "layers[0].units (line 2, column 40)"}; {@code null} for none
     * @param problem what is wrong, without source or location
     */
    public ModelFormatException(String source, String location, String problem) {
        super((source == null ? "<unknown model file>" : source) + ": " + (location == null ? "" : location + ": ") + problem);
        this.source = source;
        this.location = location;
        this.problem = problem;
    }

    /** Same as {@link #ModelFormatException(String, String, String)} with the file's path as source. */
    public ModelFormatException(Path file, String location, String problem) {
        this(file == null ? null : file.toString(), location, problem);
    }

    /**
     * A message given in full (used where the path reads best as the subject of a sentence, e.g.
     * {@code "params.npy has 1440 values but ..."}).
     */
    static ModelFormatException whole(Path file, String message) {
        return new ModelFormatException(message, file == null ? null : file.toString());
    }

    private ModelFormatException(String message, String source) {
        super(message);
        this.source = source;
        this.location = null;
        this.problem = message;
    }

    /** @return the file path or resource name, or {@code null} if unknown */
    public String source() {
        return source;
    }

    /** @return the location inside the file, or {@code null} if the problem concerns the whole file */
    public String location() {
        return location;
    }

    /** @return the problem alone, without source and location */
    public String problem() {
        return problem;
    }
}
