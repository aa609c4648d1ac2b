"""Words the generator's templates draw from: names, things, places, distractor sentences.

Everything here is data (English and Chinese side by side); the families in
:mod:`mathlab.data.families` choose from it with the problem's own random stream.
"""

from __future__ import annotations

from dataclasses import dataclass

# ---------------------------------------------------------------------------------------
# People: (name, female)
# ---------------------------------------------------------------------------------------
_EN_F = (
    "Natalia Betty Julie Aisha Priya Mei Sofia Fatima Lena Hannah Emma Olivia Chloe Zoe "
    "Grace Amara Yuki Ana Maria Leila Nadia Ruby Ivy Isabella Ava Mia Harper Sara Keisha "
    "Rosa Ingrid Elena Tamara Nia Layla Carmen Jasmine Hana Beatriz Ayesha Joy Marcy "
    "Valerie Janice Stella Alyssa Kendall Ellie Brianna Freya Lucia Imani Rin Camila"
).split()
_EN_M = (
    "James Mark Albert Omar Mateo Kwame Ravi Liam Noah Ethan Lucas Diego Hiroshi Chen Tariq "
    "Samuel Daniel Jamal Arjun Felix Oscar Marcus Tom Ben Carlos Ivan Kofi Malik Andre Hugo "
    "Luis Jack Theo Emeka Sanjay Dmitri Jose Wei Paul Henry Dan Marvin Raj Yusuf Pedro "
    "Kenji Elijah Gabriel Tobias Amir Bruno Nikolai"
).split()
_ZH_F = "小红 小芳 丽丽 王芳 李娜 张敏 陈静 杨丽 赵雪 小美 林琳 周婷 吴霞 孙悦 刘佳 黄蕾 何玲 郭欣".split()
_ZH_M = "小明 小刚 小强 李华 王军 张伟 刘涛 陈磊 杨帆 赵鹏 黄勇 周杰 吴斌 孙浩 马超 小军 林东 郑阳".split()

NAMES = {
    "en": [(n, True) for n in _EN_F] + [(n, False) for n in _EN_M],
    "zh": [(n, True) for n in _ZH_F] + [(n, False) for n in _ZH_M],
}


def names(lang: str) -> list[tuple[str, bool]]:
    return NAMES[lang]


# ---------------------------------------------------------------------------------------
# Things
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Noun:
    """A countable thing: English singular/plural, Chinese noun and measure word."""

    sg: str
    pl: str
    zh: str
    cl: str  # Chinese measure word: 3支铅笔
    lo: int = 50  # price range in cents (when it is bought)
    hi: int = 500
    tags: frozenset[str] = frozenset()

    @property
    def a(self) -> str:
        """``a notebook`` / ``an eraser``."""
        return ("an " if self.sg[0] in "aeiou" else "a ") + self.sg


def _n(sg, pl, zh, cl, lo, hi, tags):
    return Noun(sg, pl, zh, cl, lo, hi, frozenset(tags.split()))


NOUNS = [
    # school
    _n("pencil", "pencils", "铅笔", "支", 25, 150, "school buy collect"),
    _n("eraser", "erasers", "橡皮", "块", 25, 200, "school buy"),
    _n("notebook", "notebooks", "笔记本", "本", 100, 600, "school buy"),
    _n("marker", "markers", "马克笔", "支", 50, 300, "school buy"),
    _n("sticker", "stickers", "贴纸", "张", 10, 100, "school collect share"),
    _n("crayon", "crayons", "蜡笔", "支", 10, 75, "school share"),
    _n("folder", "folders", "文件夹", "个", 50, 300, "school buy"),
    _n("ruler", "rulers", "尺子", "把", 75, 300, "school buy"),
    # bakery and food
    _n("cupcake", "cupcakes", "纸杯蛋糕", "个", 100, 400, "bakery buy bake share"),
    _n("muffin", "muffins", "松饼", "个", 100, 350, "bakery buy bake share"),
    _n("cookie", "cookies", "饼干", "块", 25, 200, "bakery buy bake share"),
    _n("croissant", "croissants", "牛角面包", "个", 150, 400, "bakery buy bake"),
    _n("donut", "donuts", "甜甜圈", "个", 75, 250, "bakery buy bake share"),
    _n("loaf of bread", "loaves of bread", "面包", "条", 200, 600, "bakery buy bake"),
    _n("pie", "pies", "馅饼", "个", 500, 1500, "bakery buy bake"),
    _n("sandwich", "sandwiches", "三明治", "个", 300, 900, "food buy"),
    _n("slice of pizza", "slices of pizza", "披萨", "块", 150, 450, "food buy share"),
    _n("bottle of juice", "bottles of juice", "果汁", "瓶", 100, 400, "food buy"),
    # farm and garden
    _n("egg", "eggs", "鸡蛋", "个", 20, 60, "farm buy collect share"),
    _n("apple", "apples", "苹果", "个", 25, 150, "farm buy collect share"),
    _n("orange", "oranges", "橙子", "个", 25, 150, "farm buy collect share"),
    _n("tomato", "tomatoes", "番茄", "个", 25, 100, "farm buy collect"),
    _n("carrot", "carrots", "胡萝卜", "根", 10, 75, "farm buy collect"),
    _n("pumpkin", "pumpkins", "南瓜", "个", 200, 900, "farm buy"),
    _n("strawberry", "strawberries", "草莓", "颗", 10, 50, "farm collect share"),
    _n("tulip", "tulips", "郁金香", "朵", 100, 400, "garden buy"),
    _n("rose", "roses", "玫瑰", "朵", 150, 500, "garden buy"),
    _n("flower pot", "flower pots", "花盆", "个", 200, 1200, "garden buy"),
    _n("seed packet", "seed packets", "种子", "包", 100, 400, "garden buy"),
    # store, hobbies, sports
    _n("toy car", "toy cars", "玩具车", "辆", 200, 1200, "store buy collect"),
    _n("book", "books", "书", "本", 400, 2000, "store buy collect"),
    _n("T-shirt", "T-shirts", "T恤", "件", 600, 2500, "store buy"),
    _n("pair of socks", "pairs of socks", "袜子", "双", 150, 800, "store buy"),
    _n("candle", "candles", "蜡烛", "根", 150, 900, "store buy"),
    _n("comic book", "comic books", "漫画书", "本", 200, 900, "store buy collect"),
    _n("tennis ball", "tennis balls", "网球", "个", 75, 300, "sports buy collect"),
    _n("baseball card", "baseball cards", "棒球卡", "张", 25, 300, "sports buy collect share"),
    _n("marble", "marbles", "弹珠", "颗", 10, 75, "store collect share"),
    _n("seashell", "seashells", "贝壳", "个", 10, 50, "collect share"),
    _n("stamp", "stamps", "邮票", "张", 25, 200, "collect buy"),
    _n("bead", "beads", "珠子", "颗", 5, 40, "craft buy collect share"),
    _n("button", "buttons", "纽扣", "颗", 10, 60, "craft buy collect"),
    _n("balloon", "balloons", "气球", "个", 25, 150, "party buy share"),
    _n("party hat", "party hats", "派对帽", "顶", 50, 300, "party buy"),
    _n("water bottle", "water bottles", "水瓶", "个", 300, 1500, "sports buy"),
    _n("puzzle", "puzzles", "拼图", "盒", 500, 2000, "store buy"),
]


def nouns(tag: str) -> list[Noun]:
    return [n for n in NOUNS if tag in n.tags]


@dataclass(frozen=True)
class Container:
    sg: str
    pl: str
    zh: str  # also the Chinese measure word: 3盒


CONTAINERS = [
    Container("pack", "packs", "包"),
    Container("box", "boxes", "盒"),
    Container("bag", "bags", "袋"),
    Container("carton", "cartons", "箱"),
    Container("basket", "baskets", "篮"),
    Container("jar", "jars", "罐"),
    Container("tray", "trays", "盘"),
    Container("bundle", "bundles", "捆"),
]

# ---------------------------------------------------------------------------------------
# Sentences about nobody in the problem (GSM-IC style irrelevant context).
# {q}: a person who is not in the problem; {n}: a number; {o}: a noun of the problem.
# ---------------------------------------------------------------------------------------
DISTRACTORS = {
    "en": [
        "{q}'s cousin has {n} goldfish.",
        "{q} is {n} years old.",
        "The library down the street has {n} computers.",
        "{q} read {n} pages of a mystery novel last night.",
        "There are {n} trees in the park near {q}'s house.",
        "{q}'s dog weighs {n} pounds.",
        "Last spring, {q} ran {n} miles in a charity race.",
        "The school gym has {n} basketballs.",
        "{q} keeps {n} stamps in an old album.",
        "The bus to the city leaves every {n} minutes.",
        "{q}'s neighbor planted {n} rose bushes last year.",
        "A farm nearby has {n} cows.",
        "{q} has {n} {o} at home.",
        "{q}'s brother bought {n} {o} last week.",
        "The shop next door sold {n} umbrellas on Monday.",
        "{q} scored {n} points in a video game yesterday.",
        "There are {n} chairs in {q}'s classroom.",
        "{q}'s aunt lives {n} miles away.",
        "A parking lot across town holds {n} cars.",
        "{q} watched {n} movies over the holidays.",
        "The town's oldest bridge is {n} meters long.",
        "{q} practiced the violin for {n} minutes on Sunday.",
        "{q}'s sister has {n} {o} in a drawer.",
        "Every year, {q} plants {n} sunflowers.",
    ],
    "zh": [
        "{q}的表哥养了{n}条金鱼。",
        "{q}今年{n}岁。",
        "街边的图书馆有{n}台电脑。",
        "{q}昨晚读了{n}页小说。",
        "{q}家附近的公园里有{n}棵树。",
        "{q}家的小狗重{n}斤。",
        "学校体育馆里有{n}个篮球。",
        "去城里的公交车每{n}分钟一班。",
        "附近的农场有{n}头奶牛。",
        "{q}家里有{n}{cl}{o}。",
        "{q}的弟弟上周买了{n}{cl}{o}。",
        "隔壁商店星期一卖出了{n}把雨伞。",
        "{q}昨天玩游戏得了{n}分。",
        "{q}的教室里有{n}把椅子。",
        "{q}的姑姑住在{n}公里外。",
        "{q}寒假看了{n}部电影。",
    ],
}

# Opening sentences without numbers, by setting (they vary how problems begin).
INTROS = {
    "school": {
        "en": [
            "{p} is getting ready for the new school year.",
            "{p}'s class is preparing for an art project.",
            "It is back-to-school season, and {p} is shopping for supplies.",
            "{p} helps out at the school supply store.",
        ],
        "zh": ["新学期快到了，{p}在准备学习用品。", "{p}的班级在准备一次手工课。"],
    },
    "bakery": {
        "en": [
            "{p} runs a small bakery downtown.",
            "{p} loves baking on weekends.",
            "The bake sale at {p}'s school is this Friday.",
            "{p} works at a bakery near the train station.",
        ],
        "zh": ["{p}在街角开了一家小面包店。", "{p}周末很喜欢烤点心。"],
    },
    "farm": {
        "en": [
            "{p} grows fruit and vegetables on a small farm.",
            "{p} spends the summer helping on {his} grandparents' farm.",
            "{p} sells produce at the farmers' market every Saturday.",
        ],
        "zh": ["{p}家有一个小农场。", "{p}每个星期六都去集市卖农产品。"],
    },
    "store": {
        "en": [
            "{p} went to the mall on Saturday.",
            "{p} is buying gifts for {his} friends.",
            "{p} stopped at a shop on the way home.",
            "The store on Main Street is having a busy day.",
        ],
        "zh": ["星期六，{p}去了商场。", "{p}在给朋友们挑选礼物。"],
    },
    "garden": {
        "en": [
            "{p} is planting a garden this spring.",
            "{p} wants to make {his} backyard look nicer.",
            "{p} volunteers at the community garden.",
        ],
        "zh": ["今年春天，{p}打算在院子里种花。", "{p}在社区花园做志愿者。"],
    },
    "sports": {
        "en": [
            "{p} is on the school soccer team.",
            "{p} has been training for a race.",
            "{p}'s team practices after school.",
        ],
        "zh": ["{p}是学校足球队的队员。", "{p}一直在为比赛做训练。"],
    },
    "party": {
        "en": [
            "{p} is throwing a birthday party.",
            "{p} is planning a picnic with friends.",
            "{p}'s family is hosting a holiday dinner.",
        ],
        "zh": ["{p}要举办一个生日聚会。", "{p}打算和朋友们去野餐。"],
    },
    "work": {
        "en": [
            "{p} took on a big job this week.",
            "{p} has a busy day at work.",
            "{p} and {his} crew take on jobs around town.",
        ],
        "zh": ["{p}这周接了一个大活。", "{p}今天工作很忙。"],
    },
    "saving": {
        "en": [
            "{p} has a summer job.",
            "{p} is saving up money.",
            "{p} wants to earn some extra money this year.",
        ],
        "zh": ["{p}暑假找了一份工作。", "{p}正在攒钱。"],
    },
    "travel": {
        "en": [
            "{p} is planning a road trip.",
            "{p} is visiting family in another town.",
            "{p} likes to explore the countryside.",
        ],
        "zh": ["{p}计划来一次自驾游。", "{p}要去另一个城市看望亲戚。"],
    },
}

WEEKDAYS = {
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    "zh": ["星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"],
}
MONTHS = {
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    "zh": [
        "一月",
        "二月",
        "三月",
        "四月",
        "五月",
        "六月",
        "七月",
        "八月",
        "九月",
        "十月",
        "十一月",
        "十二月",
    ],
}
ORDINALS = {
    "en": ["first", "second", "third", "fourth", "fifth", "sixth", "seventh"],
    "zh": ["第一", "第二", "第三", "第四", "第五", "第六", "第七"],
}
