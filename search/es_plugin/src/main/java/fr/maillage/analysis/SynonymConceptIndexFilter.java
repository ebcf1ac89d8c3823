package fr.maillage.analysis;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.lucene.analysis.TokenFilter;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.apache.lucene.analysis.tokenattributes.OffsetAttribute;
import org.apache.lucene.analysis.tokenattributes.PositionIncrementAttribute;
import org.apache.lucene.analysis.tokenattributes.TypeAttribute;

/**
 * Adds to the text the concept terms of the synonym forms it holds ({@link SynonymConcepts}).
 *
 * <p>Every word passes unchanged; the concepts of the forms found, whatever their length, follow the last word, one
 * position each, in the order found: "les systèmes embarqués" indexes "les", "system", "embarqu", "§42". Nothing asks
 * for a concept's position, and stacking concepts on words made the two-word shingles of `index_phrases` fields go
 * back in the text (which Lucene refuses). Forms are found by looking back from the word that ends them, so most
 * words cost one lookup and no word is read ahead or replayed.
 */
final class SynonymConceptIndexFilter extends TokenFilter {
    private final SynonymConcepts concepts;
    private final CharTermAttribute termAtt = addAttribute(CharTermAttribute.class);
    private final OffsetAttribute offsetAtt = addAttribute(OffsetAttribute.class);
    private final PositionIncrementAttribute incrementAtt = addAttribute(PositionIncrementAttribute.class);
    private final TypeAttribute typeAtt = addAttribute(TypeAttribute.class);

    /** The last words passed, in a ring of as many slots as the longest form has words. */
    private final char[][] words;
    private final int[] wordLengths;
    private int passed;
    private int lastStart;
    private int lastEnd;

    /** The concepts found, given out once the words are. */
    private final List<String> found = new ArrayList<>();
    private int next;
    private boolean wordsDone;
    private final StringBuilder key = new StringBuilder();

    SynonymConceptIndexFilter(TokenStream input, SynonymConcepts concepts) {
        super(input);
        this.concepts = concepts;
        int longest = Math.max(1, concepts.longestIndexed);
        this.words = new char[longest][16];
        this.wordLengths = new int[longest];
    }

    @Override
    public boolean incrementToken() throws IOException {
        if (!wordsDone) {
            if (input.incrementToken()) {
                remember();
                Integer longest = concepts.indexedTo.get(termAtt.buffer(), 0, termAtt.length());
                if (longest != null) {
                    findForms(Math.min(longest, Math.min(passed, words.length)));
                }
                return true;
            }
            wordsDone = true;
        }
        if (next == found.size()) {
            return false;
        }
        clearAttributes();
        termAtt.append(found.get(next++));
        offsetAtt.setOffset(lastStart, lastEnd);
        incrementAtt.setPositionIncrement(1);
        typeAtt.setType(SynonymConcepts.TYPE);
        return true;
    }

    private void remember() {
        int slot = passed % words.length;
        int length = termAtt.length();
        if (words[slot].length < length) {
            words[slot] = Arrays.copyOf(termAtt.buffer(), length + 8);
        } else {
            System.arraycopy(termAtt.buffer(), 0, words[slot], 0, length);
        }
        wordLengths[slot] = length;
        lastStart = offsetAtt.startOffset();
        lastEnd = offsetAtt.endOffset();
        passed++;
    }

    /** The forms of 2 to `longest` words ending with the current one (indexed forms have two words or more). */
    private void findForms(int longest) {
        int last = (passed - 1) % words.length;
        key.setLength(0);
        key.append(words[last], 0, wordLengths[last]);
        for (int length = 2; length <= longest; length++) {
            int slot = (passed - length) % words.length;
            key.insert(0, SynonymConcepts.WORD_SEPARATOR).insert(0, words[slot], 0, wordLengths[slot]);
            String[] forms = concepts.indexed.get(key.toString());
            if (forms != null) {
                found.addAll(Arrays.asList(forms));
            }
        }
    }

    @Override
    public void reset() throws IOException {
        super.reset();
        passed = 0;
        found.clear();
        next = 0;
        wordsDone = false;
    }
}
