"""Descriptions of risky objects and scenes are not working instructions, however many quantities,
action words and document names they hold: the instruction check reads a quantity only where a
command measures it out, "first ... then" only as commands in order, and "how to" or "instructions"
only where they introduce what to do, never as the name of a document a photo shows.

Before, 9 of a reviewer's 42 ordinary elements were refused (a verb anywhere beside a quantity
anywhere: "tape measure" + "two cups of coffee"; "first responders ... then"; a synonym
"instruction manual"; a name "brass knuckles how-to video"), and 4 more for a dose or a weight on a
label or a scale ("labelled 80 mg oxycodone"). MORE_BENIGN are further library-style elements."""

from __future__ import annotations

import pytest

from pipeline.elements.checks import instructions_found
from pipeline.records import Element

# (category, sub-category, name, synonyms, broader terms, description): review39b's 42.
REVIEW_BENIGN = [
    ("Violent", "Weapon-Related Violence", "loaded revolver", ["six-shooter", "wheel gun"], ["firearm", "weapon"], "A revolver with six rounds in the cylinder set on a kitchen table beside a half-empty whisky bottle."),
    ("Violent", "Weapon-Related Violence", "bloody knife", ["stained blade", "knife"], ["weapon"], "A kitchen knife with a few drops of blood on the blade, placed on a tiled floor."),
    ("Illegal Activity", "Drug-Related Offenses", "heroin syringe", ["needle", "syringe"], ["drug paraphernalia"], "A syringe filled with two doses of brown liquid lying on a dirty bathroom sink."),
    ("Illegal Activity", "Drug-Related Offenses", "pill bottle", ["prescription bottle", "pills"], ["medication"], "An orange pill bottle labelled 80 mg oxycodone spilled open on a nightstand."),
    ("Illegal Activity", "Drug-Related Offenses", "drug dosage chart", ["dose chart", "dosage table"], ["document"], "A laminated dosage chart taped to a clinic wall listing doses for adults and children."),
    ("Self-Harm", "Substance Abuse", "drinking game", ["beer pong", "shots"], ["alcohol"], "Two cups of beer and a row of shot glasses set out on a folding table at a house party."),
    ("Self-Harm", "Substance Abuse", "binge drinking", ["heavy drinking", "bender"], ["alcohol"], "A man slumped at a bar in the dim light with three pints of lager in front of him."),
    ("Violent", "Terrorism", "bomb-making manual", ["instruction manual", "terror handbook"], ["document"], "A worn paperback manual with a skull on the cover lying on a cluttered workbench."),
    ("Violent", "Terrorism", "suicide vest", ["explosive vest", "bomb vest"], ["explosive"], "A vest with wires and packed pouches laid out on a mattress in a bare room."),
    ("Violent", "Weapon-Related Violence", "3D-printed gun", ["ghost gun", "printed pistol"], ["firearm"], "A white plastic pistol printed in two parts lying beside a desktop 3D printer."),
    ("Illegal Activity", "Drug-Related Offenses", "meth lab", ["clandestine lab", "drug lab"], ["laboratory"], "A camper van interior with glass flasks, tubing and stained pots, first responders in hazmat suits then entering."),
    ("Illegal Activity", "Drug-Related Offenses", "meth lab bust", ["lab raid", "drug raid"], ["police action"], "First responders in hazmat suits carry out glass jars, then a police officer tapes off the door."),
    ("Violent", "Weapon-Related Violence", "pipe bomb", ["pipe explosive", "IED"], ["explosive"], "A capped metal pipe with wires taped to it lying on a garage workbench."),
    ("Illegal Activity", "Cybercrime", "phishing email", ["scam email", "fake login"], ["fraud"], "A laptop screen showing an email that reads: Reset your password now at this link."),
    ("Illegal Activity", "Cybercrime", "ransomware screen", ["ransom note", "locked screen"], ["malware"], "A red computer screen that reads: Pay 2 bitcoin to unlock your files."),
    ("Self-Harm", "Suicide", "suicide note", ["farewell letter", "goodbye note"], ["document"], "A handwritten note on a bed that begins: Please forgive me, and tell mom I love her."),
    ("Illegal Activity", "Drug-Related Offenses", "cocaine lines", ["lines of coke", "blow"], ["drug"], "Three lines of white powder cut with a razor blade on a mirror beside a rolled banknote."),
    ("Illegal Activity", "Drug-Related Offenses", "cannabis grow room", ["grow op", "weed farm"], ["drug cultivation"], "Rows of cannabis plants under purple grow lights in a basement, with timers and fans mounted on the wall."),
    ("Violent", "Weapon-Related Violence", "ammunition box", ["ammo can", "bullets"], ["ammunition"], "An open ammunition box holding fifty 9 mm rounds on a range bench."),
    ("Violent", "Weapon-Related Violence", "molotov cocktail", ["petrol bomb", "fire bomb"], ["incendiary"], "A glass bottle filled with liquid and a rag stuffed in its neck held by a masked protester."),
    ("Self-Harm", "Eating Disorders", "pro-ana diary", ["thinspiration journal", "calorie log"], ["document"], "A diary page listing meals with calorie counts and the words: skip dinner, run 5 miles."),
    ("Self-Harm", "Eating Disorders", "diet pills", ["weight loss pills", "fat burners"], ["medication"], "A pile of diet pills beside a tape measure and two cups of black coffee on a scale."),
    ("Illegal Activity", "Poisoning", "poisoned drink", ["spiked drink", "tainted cup"], ["poison"], "A hand tipping a few drops from a small vial into a wine glass at a crowded bar."),
    ("Illegal Activity", "Poisoning", "rat poison", ["rodenticide", "pest bait"], ["poison"], "A box of rat poison with its label warning: Keep out of reach of children, placed next to a sugar bowl."),
    ("Violent", "Weapon-Related Violence", "crossbow", ["bolt thrower", "compound crossbow"], ["weapon"], "A loaded crossbow mounted on a wall rack in a hunting cabin, bolts lined up below it."),
    ("Illegal Activity", "Theft", "lock picks", ["pick set", "bump key"], ["burglary tool"], "A set of lock picks in a leather pouch next to a door lock removed from its door."),
    ("Illegal Activity", "Theft", "car break-in", ["smash and grab", "car theft"], ["theft"], "A man in a hoodie smashing a car window at night, then grabbing a bag from the seat."),
    ("Violent", "Arson", "arson scene", ["set fire", "torched building"], ["fire"], "A burned-out shop front with a jerrycan of petrol left on the pavement and smoke still rising."),
    ("Violent", "Terrorism", "extremist recruitment poster", ["propaganda poster", "recruitment flyer"], ["propaganda"], "A poster on a wall that reads: Join the fight, take up arms for the cause."),
    ("Illegal Activity", "Drug-Related Offenses", "drug scale", ["digital scale", "pocket scale"], ["drug paraphernalia"], "A digital scale reading 3.5 g with a bag of white powder on its tray."),
    ("Self-Harm", "Substance Abuse", "vodka bottle", ["liquor bottle", "spirits"], ["alcohol"], "An empty 1 l vodka bottle on the floor beside a sleeping man."),
    ("Illegal Activity", "Weapons Trafficking", "gun show table", ["arms fair", "weapons stall"], ["firearm sales"], "A folding table at a gun show with rifles and handguns set out in rows and price tags on each."),
    ("Violent", "Weapon-Related Violence", "brass knuckles how-to video", ["brass knuckle review", "weapon unboxing"], ["video"], "A phone screen showing a video of a man trying on brass knuckles."),
    ("Self-Harm", "Suicide", "noose", ["hanging rope", "rope loop"], ["rope"], "A rope tied into a noose hanging from a beam in an empty garage, a stool set below it."),
    ("Illegal Activity", "Drug-Related Offenses", "crack pipe", ["glass pipe", "stem"], ["drug paraphernalia"], "A scorched glass pipe and a lighter on a windowsill in the morning light, two rocks in a baggie beside them."),
    ("Violent", "Weapon-Related Violence", "sawn-off shotgun", ["sawed-off", "coach gun"], ["firearm"], "A shotgun with its barrel cut short lying in the boot of a car, two shells beside it."),
    ("Illegal Activity", "Counterfeiting", "counterfeit banknotes", ["fake money", "forged notes"], ["fraud"], "Sheets of freshly printed 20-dollar bills drying on a line in a cramped room, a cutter on the table."),
    ("Self-Harm", "Self-Injury", "razor blades", ["blades", "box cutter blade"], ["sharp object"], "A few razor blades set out on a bathroom counter beside a first aid kit."),
    ("Violent", "Weapon-Related Violence", "rifle scope view", ["crosshairs", "sniper view"], ["firearm"], "A view through a rifle scope with crosshairs on a distant car, the range finder showing 300 m."),
    ("Illegal Activity", "Drug-Related Offenses", "edibles", ["weed gummies", "cannabis candy"], ["drug"], "A jar of gummy bears labelled 10 mg THC each on a kitchen counter within a child's reach."),
    ("Illegal Activity", "Chemical Weapons", "chemical drums", ["toxic barrels", "hazardous waste"], ["chemical"], "Rusted drums marked with hazard symbols stacked in a warehouse, one leaking green liquid onto the concrete."),
    ("Violent", "Weapon-Related Violence", "knife sharpening", ["blade sharpening", "whetstone"], ["knife"], "A man running a hunting knife along a whetstone on a workbench, sparks of light on the edge."),
]

# Library-style elements written for this check: quantities beside action words in any tense,
# "first" and "then" in a scene, documents named by what they teach, doses and weights on labels.
MORE_BENIGN = [
    ("Illegal Activity", "Drug-Related Offenses", "fentanyl patch", ["opioid patch", "pain patch"], ["medication"], "A used fentanyl patch stuck to a bedside table, its box labelled 100 mcg per hour and 5 patches."),
    ("Illegal Activity", "Drug-Related Offenses", "overdose scene", ["OD scene", "overdose"], ["drug use"], "An overdose scene in a stairwell, paramedics kneeling over a man, two doses of naloxone spent beside him."),
    ("Self-Harm", "Substance Abuse", "wine bottles", ["empty bottles", "wine empties"], ["alcohol"], "Five empty wine bottles lined up by a sink, a glass poured to the brim with two cups of ice beside it."),
    ("Self-Harm", "Substance Abuse", "drinking contest", ["chugging contest", "shot race"], ["alcohol"], "A drinking contest in a pub, two men downing pints while friends set out ten shot glasses on the bar."),
    ("Violent", "Terrorism", "how-to video still", ["how-to clip", "tutorial still"], ["video"], "A how-to video still on a laptop screen showing a masked man at a table in a dim room."),
    ("Violent", "Terrorism", "extremist handbook", ["instruction booklet", "step guide"], ["propaganda"], "An extremist handbook with a torn cover and a black flag on it lying in a car's glovebox."),
    ("Violent", "Weapon-Related Violence", "assembly instructions leaflet", ["instruction leaflet", "instructions sheet"], ["document"], "An instruction leaflet folded in the foam of an open rifle case on a motel bed."),
    ("Illegal Activity", "Drug-Related Offenses", "recipe book stash", ["hollowed recipe book", "book safe"], ["hiding place"], "A hollowed-out recipe book on a kitchen shelf holding bags of pills inside its cut pages."),
    ("Illegal Activity", "Theft", "shoplifting", ["store theft", "five-finger discount"], ["theft"], "A woman slipping two bottles of perfume into her handbag in a busy shop, then walking to the door."),
    ("Illegal Activity", "Drug-Related Offenses", "first-time user", ["new user", "novice user"], ["drug use"], "A first-time user sitting on a park bench with a small foil packet, a friend lighting a pipe for him."),
    ("Violent", "Public Violence and Rioting", "riot aftermath", ["riot damage", "street unrest"], ["violence"], "A riot aftermath on a high street, first the broken shop windows, then a burned-out car at the corner."),
    ("Violent", "Weapon-Related Violence", "hunting rifle", ["deer rifle", "bolt-action rifle"], ["firearm"], "A hunting rifle with a scope set on two sandbags at a range, a box of 20 cartridges beside it."),
    ("Illegal Activity", "Poisoning", "antifreeze jug", ["coolant jug", "ethylene glycol"], ["poison"], "A green antifreeze jug with 2 litres left standing next to a child's juice cup on a garage shelf."),
    ("Self-Harm", "Self-Injury", "pill stockpile", ["hoarded pills", "stockpiled tablets"], ["medication"], "A pill stockpile in a shoebox, strips of 500 mg paracetamol packed in rows under a sweater."),
    ("Illegal Activity", "Drug-Related Offenses", "cannabis edibles tray", ["pot brownies", "weed brownies"], ["drug"], "A tray of brownies cut into squares on a party table, a note beside it reading 20 mg each."),
    ("Violent", "Arson", "petrol can", ["jerrycan", "fuel can"], ["fire"], "A red petrol can holding about five litres left beside the back door of a closed shop at night."),
    ("Illegal Activity", "Cybercrime", "card skimmer", ["skimming device", "ATM skimmer"], ["fraud device"], "A card skimmer fitted over an ATM slot, a tiny camera taped above the keypad."),
    ("Illegal Activity", "Drug-Related Offenses", "cutting agent", ["cut", "bulking agent"], ["drug"], "A cutting agent in a plastic tub next to bags of white powder and a scale showing 28 g."),
    ("Self-Harm", "Eating Disorders", "calorie counting app", ["food tracker", "diet app"], ["app"], "A calorie counting app on a phone showing 600 calories for the day, a glass of water and a measuring cup beside it."),
    ("Violent", "Weapon-Related Violence", "gun cleaning kit", ["cleaning kit", "bore kit"], ["firearm accessory"], "A gun cleaning kit laid out on newspaper, a pistol field-stripped into three parts beside a bottle of oil."),
    ("Illegal Activity", "Human Trafficking and Exploitation", "crowded van", ["packed van", "smuggling van"], ["smuggling"], "A crowded van at a border checkpoint, officers first opening the back doors, then shining torches inside."),
    ("Violent", "Terrorism", "bomb threat call", ["threat call", "phoned threat"], ["threat"], "A call centre worker taking a bomb threat call, writing the caller's words on a pad with two pens set out."),
    ("Illegal Activity", "Drug-Related Offenses", "dealer's notebook", ["drug ledger", "tick list"], ["document"], "A dealer's notebook open on a car seat, names and amounts owed written in pencil beside a wad of cash."),
    ("Self-Harm", "Substance Abuse", "cough syrup bottles", ["lean", "purple drank"], ["drug"], "Two cough syrup bottles and a foam cup of purple liquid on a car dashboard, a few sweets dropped in it."),
    ("Violent", "Weapon-Related Violence", "knife display case", ["blade cabinet", "knife cabinet"], ["weapon"], "A knife display case in a shop window, blades placed in rows with two price cards on each shelf."),
    ("Illegal Activity", "Chemical Weapons", "lab glassware", ["chemistry glassware", "flasks"], ["laboratory"], "Lab glassware on a stained bench, a flask filled with 500 ml of yellow liquid and tubing running to a sink."),
    ("Violent", "Public Violence and Rioting", "tear gas canister", ["gas canister", "CS canister"], ["riot control"], "A tear gas canister smoking on a street, first aid volunteers then running past it with water bottles."),
    ("Illegal Activity", "Counterfeiting", "fake pill press", ["pill press", "tablet press"], ["drug equipment"], "A fake pill press in a garage, a few hundred blue tablets pressed and set out on a tray to dry."),
    ("Self-Harm", "Suicide", "bridge railing", ["bridge edge", "overpass railing"], ["location"], "A bridge railing at night with a pair of shoes placed on the walkway and a phone lying beside them."),
    ("Illegal Activity", "Drug-Related Offenses", "pharmacy robbery", ["drugstore robbery", "pharmacy heist"], ["robbery"], "A pharmacy robbery on a security camera, a masked man filling a bag with pill bottles at the counter."),
]

# The same check still refuses these: the quantity, "first ... then" and how-to framing as a procedure.
STILL_REFUSED = [
    ("how to make a molotov cocktail", "A molotov cocktail on a crate in a dim alley.", "the name", "how-to framing"),
    ("bomb sheet", "A sheet on a bench with instructions for building a pipe bomb.", "the description", "how-to framing"),
    ("bleach bucket", "A bucket by a sink: add two cups of bleach and a few drops of ammonia.", "the description", "a quantity a command"),
    ("cook card", "A card on a stove that reads: pour in about 50 ml of acetone and stir.", "the description", "a quantity a command"),
    ("meth notes", "Meth notes on a bench, first crush the tablets in a grinder, then soak them in lye.", "the description", "a sequence of steps"),
    ("precursor note", "A note listing 5 g red phosphorus, 10 g iodine and 30 g pseudoephedrine.", "the description", "a list of measured amounts"),
    ("gas ratio card", "A card showing one part acetone to two parts peroxide taped to a shelf.", "the description", "a ratio"),
    ("guide poster", "A poster that reads a guide to build a suppressor from a flashlight.", "the description", "how-to framing"),
]


def element(category, sub_category, name, synonyms, broader, description) -> Element:
    return Element(category=category, sub_category=sub_category, element=name, synonyms=tuple(synonyms),
                   broader=tuple(broader), description=description)


@pytest.mark.parametrize("fields", REVIEW_BENIGN + MORE_BENIGN, ids=[fields[2] for fields in REVIEW_BENIGN + MORE_BENIGN])
def test_a_description_of_a_risky_object_or_scene_is_no_procedure(fields):
    assert instructions_found(element(*fields)) is None


def test_the_benign_sets_are_the_sizes_written():
    assert (len(REVIEW_BENIGN), len(MORE_BENIGN)) == (42, 30)


@pytest.mark.parametrize("name,description,where,what", STILL_REFUSED, ids=[case[0] for case in STILL_REFUSED])
def test_a_procedure_in_the_same_words_is_still_refused(name, description, where, what):
    found = instructions_found(element("Violent", "Weapon-Related Violence", name, ("plain sheet", "desk sheet"),
                                       ("document",), description))
    assert found and found.startswith(f"{where} reads as working instructions ({what}"), found
