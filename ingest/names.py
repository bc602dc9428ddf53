"""Name and place tables for the synthetic demo force (fictional places in a
Guangdong-like province; surname frequencies shaped like the Pearl River Delta's)."""
from __future__ import annotations

# Surname, relative frequency (per mille, roughly as in Guangdong).
SURNAMES: tuple[tuple[str, float], ...] = (
    ("陈", 85), ("李", 70), ("黄", 56), ("张", 45), ("梁", 36), ("林", 33), ("刘", 32), ("吴", 30),
    ("罗", 26), ("何", 24), ("王", 24), ("郑", 20), ("杨", 20), ("谢", 18), ("周", 17), ("冯", 16),
    ("邓", 16), ("叶", 15), ("曾", 15), ("潘", 13), ("麦", 12), ("卢", 12), ("蔡", 11), ("朱", 11),
    ("苏", 10), ("钟", 10), ("余", 10), ("许", 9), ("赖", 9), ("郭", 9), ("谭", 8), ("彭", 8),
    ("胡", 8), ("徐", 7), ("廖", 7), ("关", 6), ("邱", 6), ("区", 5), ("伍", 5), ("莫", 5),
    ("孙", 5), ("马", 5), ("高", 5), ("江", 5), ("温", 5), ("袁", 5), ("方", 5), ("霍", 4),
    ("邝", 4), ("欧", 3), ("冼", 3), ("庞", 3), ("杜", 3), ("范", 3), ("戴", 3), ("姚", 3),
    ("宋", 3), ("严", 3), ("韦", 3), ("汤", 3), ("简", 3), ("岑", 3), ("甘", 3), ("龙", 3),
    ("骆", 2), ("容", 2), ("招", 2), ("植", 1), ("禤", 0.5), ("欧阳", 1.5), ("司徒", 1.5), ("上官", 0.3),
)

# Given-name characters. Two-character given names are the norm; ~12% have one.
GIVEN_MALE = tuple("伟强磊军勇杰涛斌超明华建国志文俊辉鹏飞峰浩宇波刚林平东健振新永兵海亮锋晖坚荣锦耀家德嘉"
                   "伦达成坤豪威庆锐智聪博宏洪彬旭晨阳诚卓均荣昌炜烨敬泽铭")
GIVEN_FEMALE = tuple("芳丽敏静燕婷娟霞玲红艳慧琳颖雪梅欣佳雯倩洁晓璐莹淑婉咏翠妙琪诗韵蕾萍彤楠婕瑶怡月秀凤")
GIVEN_RARE = tuple("燊犇淼堃喆赟昇彧玥珺瑄璟翀頔")  # a few uncommon characters, as real rosters have

# City departments: code suffix, 中文, English, size share (city scale), post mix
DEPARTMENTS: tuple[tuple[str, str, str, float, dict[str, float]], ...] = (
    ("X01", "刑侦支队", "Criminal Investigation Detachment", 520,
     {"investigation": 0.82, "office": 0.12, "special": 0.06}),
    ("X02", "交警支队", "Traffic Police Detachment", 1380, {"traffic": 0.88, "office": 0.12}),
    ("X03", "治安支队", "Public Order Detachment", 300, {"patrol": 0.4, "investigation": 0.3, "office": 0.3}),
    ("X04", "特警支队", "Special Police Detachment", 460, {"special": 0.9, "office": 0.1}),
    ("X05", "指挥中心", "Command Centre", 250, {"command": 0.8, "office": 0.2}),
    ("X06", "经侦支队", "Economic Crime Investigation Detachment", 190,
     {"investigation": 0.85, "office": 0.15}),
    ("X07", "网安支队", "Cyber Security Detachment", 200, {"cyber": 0.8, "investigation": 0.1, "office": 0.1}),
    ("X08", "政治部", "Political Department", 150, {"office": 1.0}),
)
STATION_POSTS: dict[str, float] = {"patrol": 0.34, "community": 0.3, "investigation": 0.18, "office": 0.13,
                                   "traffic": 0.05}

# Provinces and cities (fictional): code, 中文, pinyin, centre (lat, lon)
PROVINCE = ("LN", "岭南省公安厅", "Lingnan Provincial Public Security Department", (23.1, 113.3))
CITIES: tuple[tuple[str, str, str, tuple[float, float]], ...] = (
    ("NJ", "南江", "Nanjiang", (23.02, 113.12)),
    ("DL", "东陵", "Dongling", (23.35, 114.40)),
    ("XL", "西岭", "Xiling", (23.05, 112.45)),
    ("BG", "北港", "Beigang", (24.30, 113.60)),
    ("QC", "青川", "Qingchuan", (22.55, 113.95)),
    ("BS", "白沙", "Baisha", (21.85, 111.95)),
    ("ZL", "珠岭", "Zhuling", (22.25, 113.55)),
    ("SX", "松溪", "Songxi", (24.10, 115.70)),
    ("LQ", "龙泉", "Longquan", (23.65, 116.60)),
    ("HY", "华阳", "Huayang", (21.30, 110.35)),
)

# District names: the first city uses the first five, in order.
DISTRICTS: tuple[tuple[str, str], ...] = (
    ("东城", "Dongcheng"), ("西江", "Xijiang"), ("南湖", "Nanhu"), ("北山", "Beishan"), ("江湾", "Jiangwan"),
    ("新城", "Xincheng"), ("龙湖", "Longhu"), ("金沙", "Jinsha"), ("石岭", "Shiling"), ("凤凰", "Fenghuang"),
    ("青山", "Qingshan"), ("桂湖", "Guihu"), ("沙洲", "Shazhou"), ("云岭", "Yunling"), ("莲塘", "Liantang"),
)

# Syllables for station (place) names, with pinyin.
PLACE_SYLLABLES: tuple[tuple[str, str], ...] = (
    ("龙", "Long"), ("凤", "Feng"), ("桂", "Gui"), ("松", "Song"), ("石", "Shi"), ("沙", "Sha"), ("塘", "Tang"),
    ("湾", "Wan"), ("洲", "Zhou"), ("岭", "Ling"), ("坪", "Ping"), ("湖", "Hu"), ("江", "Jiang"), ("溪", "Xi"),
    ("山", "Shan"), ("岗", "Gang"), ("田", "Tian"), ("泉", "Quan"), ("桥", "Qiao"), ("埔", "Pu"), ("冲", "Chong"),
    ("滘", "Jiao"), ("围", "Wei"), ("安", "An"), ("和", "He"), ("新", "Xin"), ("华", "Hua"), ("兴", "Xing"),
    ("丰", "Feng"), ("宁", "Ning"), ("福", "Fu"), ("乐", "Le"), ("荷", "He"), ("竹", "Zhu"), ("榕", "Rong"),
    ("棠", "Tang"), ("莲", "Lian"), ("杏", "Xing"), ("金", "Jin"), ("碧", "Bi"),
)

# Hospitals of a city: suffix after the city name, English.
HOSPITALS: tuple[tuple[str, str], ...] = (
    ("市第一人民医院", "First People's Hospital"),
    ("市第二人民医院", "Second People's Hospital"),
    ("市中医院", "Hospital of Traditional Chinese Medicine"),
    ("市第三人民医院", "Third People's Hospital"),
    ("市中西医结合医院", "Integrated Chinese and Western Medicine Hospital"),
    ("市健康体检中心", "Health Examination Centre"),
    ("市第四人民医院", "Fourth People's Hospital"),
    ("市职业病防治院", "Occupational Disease Hospital"),
    ("市人民医院东院区", "People's Hospital East Campus"),
    ("市人民医院西院区", "People's Hospital West Campus"),
    ("市第五人民医院", "Fifth People's Hospital"),
    ("市妇幼保健院体检中心", "Maternal and Child Health Hospital Exam Centre"),
    ("市第六人民医院", "Sixth People's Hospital"),
    ("市骨伤科医院", "Orthopaedic Hospital"),
)

# Guangdong area codes for ID numbers (the demo city is Foshan-like: its own codes weigh most).
AREA_CODES: tuple[tuple[str, float], ...] = (
    ("440604", 18), ("440605", 16), ("440606", 14), ("440607", 6), ("440608", 5), ("440602", 4), ("440603", 3),
    ("440103", 3), ("440104", 3), ("440106", 3), ("440111", 2), ("440303", 2), ("440304", 2),
    ("440402", 1.5), ("440703", 2), ("440705", 1.5), ("441302", 1.5), ("441900", 2), ("442000", 2),
    ("440803", 1.5), ("440902", 1.5), ("441202", 1.5), ("441402", 1.5), ("445102", 1), ("440507", 1),
    ("445202", 1), ("441702", 1), ("441802", 1), ("440232", 1), ("445302", 1),
)
