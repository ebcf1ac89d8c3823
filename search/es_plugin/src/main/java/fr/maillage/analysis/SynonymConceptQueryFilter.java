package fr.maillage.analysis;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.apache.lucene.analysis.TokenFilter;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.apache.lucene.analysis.tokenattributes.OffsetAttribute;
import org.apache.lucene.analysis.tokenattributes.PositionIncrementAttribute;
import org.apache.lucene.analysis.tokenattributes.PositionLengthAttribute;
import org.apache.lucene.analysis.tokenattributes.TypeAttribute;

/**
 * Replaces the synonym forms of a query by their rules' one-word forms and concepts ({@link SynonymConcepts}).
 *
 * <p>From each word, the longest form starting there becomes those terms, stacked on one position, with offsets
 * spanning it: "systèmes embarqués temps réel" is "§42 temp reel", "réseaux 5G" is "reseau|network 5g|§35". Words
 * are read ahead only from a word that begins a form, as far as its longest form.
 */
final class SynonymConceptQueryFilter extends TokenFilter {
    private record Word(State state, String term, int end) {}

    private final SynonymConcepts concepts;
    private final CharTermAttribute termAtt = addAttribute(CharTermAttribute.class);
    private final OffsetAttribute offsetAtt = addAttribute(OffsetAttribute.class);
    private final PositionIncrementAttribute incrementAtt = addAttribute(PositionIncrementAttribute.class);
    private final PositionLengthAttribute lengthAtt = addAttribute(PositionLengthAttribute.class);
    private final TypeAttribute typeAtt = addAttribute(TypeAttribute.class);

    /** Words read from the input and not yet given out. */
    private final ArrayDeque<Word> ahead = new ArrayDeque<>();
    /** The concepts of the form being replaced, after the first one. */
    private final ArrayDeque<String> stacked = new ArrayDeque<>();
    private boolean inputDone;

    SynonymConceptQueryFilter(TokenStream input, SynonymConcepts concepts) {
        super(input);
        this.concepts = concepts;
    }

    @Override
    public boolean incrementToken() throws IOException {
        if (!stacked.isEmpty()) {
            termAtt.setEmpty().append(stacked.removeFirst());
            incrementAtt.setPositionIncrement(0);
            return true;
        }
        if (!nextWord()) {
            return false;
        }
        Integer longest = concepts.queriedFrom.get(termAtt.buffer(), 0, termAtt.length());
        if (longest == null) {
            return true;
        }
        Word first = capture();
        readAhead(longest - 1, first.state);
        List<Word> words = new ArrayList<>(longest);
        words.add(first);
        for (Word next : ahead) {
            if (words.size() == longest) {
                break;
            }
            words.add(next);
        }
        List<String> keys = new ArrayList<>(words.size());
        StringBuilder key = new StringBuilder();
        for (Word word : words) {
            if (key.length() > 0) {
                key.append(SynonymConcepts.WORD_SEPARATOR);
            }
            keys.add(key.append(word.term).toString());
        }
        for (int length = keys.size(); length >= 1; length--) {
            String[] found = concepts.queried.get(keys.get(length - 1));
            if (found == null) {
                continue;
            }
            for (int i = 1; i < length; i++) {
                ahead.removeFirst();
            }
            restoreState(first.state);
            offsetAtt.setOffset(offsetAtt.startOffset(), words.get(length - 1).end);
            termAtt.setEmpty().append(found[0]);
            lengthAtt.setPositionLength(1);
            typeAtt.setType(SynonymConcepts.TYPE);
            for (int i = 1; i < found.length; i++) {
                stacked.add(found[i]);
            }
            return true;
        }
        restoreState(first.state);
        return true;
    }

    /** The next word, from the words read ahead or the input. */
    private boolean nextWord() throws IOException {
        Word word = ahead.pollFirst();
        if (word != null) {
            restoreState(word.state);
            return true;
        }
        return readInput();
    }

    private boolean readInput() throws IOException {
        if (!inputDone) {
            inputDone = !input.incrementToken();
        }
        return !inputDone;
    }

    /** Reads from the input until `count` words are ahead (fewer at its end), then restores `current`. */
    private void readAhead(int count, State current) throws IOException {
        if (ahead.size() >= count || inputDone) {
            return;
        }
        while (ahead.size() < count && readInput()) {
            ahead.add(capture());
        }
        restoreState(current);
    }

    private Word capture() {
        return new Word(captureState(), termAtt.toString(), offsetAtt.endOffset());
    }

    @Override
    public void reset() throws IOException {
        super.reset();
        ahead.clear();
        stacked.clear();
        inputDone = false;
    }
}
