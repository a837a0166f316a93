from augment import ASSISTANT, SYSTEM, USER, Conversation, Turn
from augment.testing import check_augmenter, run_augmenter, variants

from augment_roleplay_extras.address import Address, character_name


def test_address_keeps_every_promise_of_an_augmenter():
    check_augmenter(Address, {"rate": 1.0})


def tavern():
    return Conversation(
        [
            Turn(SYSTEM, "You are Mira, keeper of the Drowned Lantern."),
            Turn(USER, "Is there any stew left?"),
            Turn(ASSISTANT, "*ladles a bowl* There's always stew."),
            Turn(USER, "*leans on the bar* Mira, put it on my tab."),
            Turn(ASSISTANT, "Your tab has its own chair by now."),
        ]
    )


def test_the_character_is_addressed_by_name_and_the_rest_is_kept():
    rows = run_augmenter(Address, [tavern()], seed=4, variants=3, options={"rate": 1.0})
    made = variants(rows[0])
    assert len(made) == 3
    for conv in made:
        first, second = conv.turns[1].content, conv.turns[3].content
        assert "Mira" in first and first.endswith("is there any stew left?")
        assert second.startswith("*leans on the bar* ") and second.count("Mira") == 1
        assert second.endswith("put it on my tab.")
        assert [t.content for t in conv.turns if t.role != USER] == [t.content for t in tavern().turns if t.role != USER]


def test_the_name_comes_from_the_record():
    assert character_name(tavern()) == "Mira"
    named = Conversation([Turn(USER, "hi"), Turn(ASSISTANT, "hello", name="林霜")])
    assert character_name(named) == "林霜"
    assert character_name(Conversation([Turn(USER, "hi"), Turn(ASSISTANT, "hello")])) is None
