"""The demo world, drawn from the three seed reports (self-evaluation reports of Gansu
governments on their education duties), told as a story that ends on the day it is loaded.

- 甘肃省 and its education-supervision office; 武威市 (seed 000 masks its name, but names
  民勤县), 临夏州 (seed 001) and 兰州市, with counties, departments and a few schools.
- The province office's on-site inspection of 武威市 and the six problems it fed back
  (seed 000, "一、……反馈问题整改情况"), each split among city departments and counties.
- The province office's evaluation of 临夏州 under 甘政教督办函〔YYYY〕14号, with the problems
  of seed 001's "存在的困难问题" and the fall in per-student upper-secondary spending it
  reports (section 14).
- 武威市's own evaluation of 凉州区 (seed 000: "对**区政府履行教育职责进行了督导评价"),
  with the problems a district reports in seed 002 (大班额, 学前教育普及普惠, 教师奖励性补贴,
  主任督学职数), signed off in two levels.
- 武威市's special inspection of school catering (seed 000, "学生餐饮保障突出问题专项整治"),
  fed back twelve days ago: its tickets are still being taken on.

The seeds' story (inspection one year, rectification the next) is replayed relative to
today: the inspections are dated by their feedback day, and their year and document number
follow it. Offsets are in days from today; `s.workday` moves a date onto a working day.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from tracker.models import InspectionKind, Role, Severity, UnitKind, UrgingLevel

if TYPE_CHECKING:
    from tracker.services.demo import Story

PROVINCE_OFFICE = "甘肃省人民政府教育督导委员会办公室"
WUWEI_OFFICE = "武威市人民政府教育督导室"

#: The day the system was set up, and the first day tickets existed (trend history starts).
INSTALLED = -350
FIRST_TICKETS = -317


def write(s: Story) -> None:
    s.installed(INSTALLED)
    _units(s)
    _people(s)
    _categories(s)
    _wuwei_onsite_inspection(s)
    _linxia_evaluation(s)
    _liangzhou_evaluation(s)
    _wuwei_catering_inspection(s)
    s.snapshots(FIRST_TICKETS)
    s.reading(range(FIRST_TICKETS + 13, -7, 21))


# --- the installation -------------------------------------------------------------------

def _units(s: Story) -> None:
    P, C, K, D, O, S = (UnitKind.PROVINCE, UnitKind.CITY, UnitKind.COUNTY,
                        UnitKind.DEPARTMENT, UnitKind.OFFICE, UnitKind.SCHOOL)
    s.unit("62", "甘肃省", P)
    s.unit("62-JYDD", PROVINCE_OFFICE, O, "62")

    s.unit("6201", "兰州市", C, "62")
    s.unit("6201-JYJ", "兰州市教育局", D, "6201")
    s.unit("620102", "城关区", K, "6201")
    s.unit("620103", "七里河区", K, "6201")
    s.unit("620123", "榆中县", K, "6201")

    s.unit("6206", "武威市", C, "62")
    s.unit("6206-JYDD", WUWEI_OFFICE, O, "6206")
    s.unit("6206-JYJ", "武威市教育局", D, "6206")
    s.unit("6206-CZJ", "武威市财政局", D, "6206")
    s.unit("6206-RSJ", "武威市人力资源和社会保障局", D, "6206")
    s.unit("6206-BB", "中共武威市委机构编制委员会办公室", D, "6206")
    s.unit("6206-GAJ", "武威市公安局", D, "6206")
    s.unit("6206-SCJGJ", "武威市市场监督管理局", D, "6206")
    s.unit("6206-ZYXY", "武威职业学院", S, "6206")
    s.unit("620602", "凉州区", K, "6206")
    s.unit("620602-JYJ", "凉州区教育局", D, "620602")
    s.unit("620602-CZJ", "凉州区财政局", D, "620602")
    s.unit("620602-BB", "中共凉州区委机构编制委员会办公室", D, "620602")
    s.unit("620602-YE02", "凉州区第二幼儿园", S, "620602")
    s.unit("620621", "民勤县", K, "6206")
    s.unit("620621-SYZX", "民勤县实验中学", S, "620621")
    s.unit("620622", "古浪县", K, "6206")
    s.unit("620623", "天祝藏族自治县", K, "6206")

    s.unit("6229", "临夏州", C, "62")
    s.unit("6229-JYDD", "临夏州人民政府教育督导室", O, "6229")
    s.unit("6229-JYJ", "临夏州教育局", D, "6229")
    s.unit("6229-CZJ", "临夏州财政局", D, "6229")
    s.unit("6229-RSJ", "临夏州人力资源和社会保障局", D, "6229")
    s.unit("6229-BB", "中共临夏州委机构编制委员会办公室", D, "6229")
    s.unit("6229-ZYJS", "临夏州职业技术学校", S, "6229")
    s.unit("622901", "临夏市", K, "6229")
    s.unit("622921", "临夏县", K, "6229")
    s.unit("622922", "康乐县", K, "6229")
    s.unit("622923", "永靖县", K, "6229")
    s.unit("622926", "东乡族自治县", K, "6229")


def _people(s: Story) -> None:
    s.person("admin", "系统管理员", Role.ADMIN, "62-JYDD")
    s.person("office", "李文静", Role.OFFICE, "62-JYDD", scope="62")
    s.person("supervisor", "马振国", Role.SUPERVISOR, "6206-JYDD", scope="6206")
    s.person("city_office", "张立新", Role.OFFICE, "6206-JYDD", scope="6206")
    s.person("unit_a", "刘晓梅", Role.UNIT_USER, "6206-JYJ")
    s.person("unit_b", "马海龙", Role.UNIT_USER, "6229-JYJ")
    s.person("wuwei_finance", "赵明", Role.UNIT_USER, "6206-CZJ")
    s.person("liangzhou", "王磊", Role.UNIT_USER, "620602")
    s.person("liangzhou_edu", "陈静", Role.UNIT_USER, "620602-JYJ")
    s.person("minqin", "孙建华", Role.UNIT_USER, "620621")
    s.person("gulang", "杨永福", Role.UNIT_USER, "620622")
    s.person("linxia_finance", "韩文斌", Role.UNIT_USER, "6229-CZJ")
    s.person("linxia_city", "马丽", Role.UNIT_USER, "622901")
    s.person("kangle", "何永强", Role.UNIT_USER, "622922")


def _categories(s: Story) -> None:
    for code, name in (
        ("party", "党的建设"),
        ("funding", "经费投入"),
        ("balance", "资源配置/义务教育均衡"),
        ("teachers", "师资队伍"),
        ("vocational", "职业教育"),
        ("safety", "校园安全"),
        ("catering", "学生餐饮"),
        ("supervision", "督导职能"),
        ("other", "其他"),
    ):
        s.category(code, name)


# --- (1) seed 000: the province's on-site inspection of 武威市 -----------------------------

def _wuwei_onsite_inspection(s: Story) -> None:
    fed_back = -320
    feedback_on = s.workday(fed_back)
    year = feedback_on.year
    d = s.date
    i = s.inspection(
        "ww", registered=fed_back, by="office", owner="62-JYDD",
        title=f"{year}年对武威市人民政府履行教育职责评价实地督查",
        kind=InspectionKind.ONSITE, year=year,
        inspected_body="武威市人民政府", inspecting_body=PROVINCE_OFFICE,
        document_number=f"甘政教督办函〔{year}〕14号",
        feedback_on=feedback_on, default_deadline=d(-140),
        signoff_levels=1, supervisors_may_sign_off=True)

    f = i.finding(
        1, "经费投入保障政策未完全落实", category="funding", severity=Severity.SERIOUS,
        description="部分县（区）未全面落实中职、普通高中、学前教育生均公用经费拨款政策，个别县（区）"
                    "学前教育生均公用经费未按标准拨付到园；全市一般公共预算教育经费增幅偏低，"
                    "“两个只增不减”保障机制尚不健全。",
        basis="《对市（州）人民政府履行教育职责的评价方案》“教育投入”指标：一般公共预算教育支出和"
              "按在校学生人数平均的一般公共预算教育支出逐年只增不减；各级各类学校生均公用经费"
              "按标准足额拨付。",
        requirement="各县（区）全面落实中职、高中、学前生均公用经费拨款政策并按标准足额拨付到校"
                    "（园）；市、县两级一般公共预算教育经费实现“两个只增不减”，建立教育经费投入"
                    "监测通报机制。")
    f.ticket("ww1a", assigned=FIRST_TICKETS, lead="6206-CZJ", coop=("6206-JYJ",),
             deadline=d(-140), responsible_person="赵明（市财政局教科文科科长）",
             measures="将中职、普通高中、学前教育生均公用经费拨款标准纳入市本级和县（区）年度预算"
                      "编制要求；建立教育经费“两个只增不减”季度监测和通报制度，对未达标县（区）"
                      "约谈督促。",
             target="市本级中职、高中、学前生均公用经费按标准足额拨付；全市一般公共预算教育经费"
                    "实现“两个只增不减”。") \
        .ack(-316) \
        .progress(-270, "已会同市教育局梳理市本级及各县（区）生均公用经费拨款政策落实情况，形成问题"
                        "清单4项；印发《关于全面落实中职、普通高中、学前教育生均公用经费拨款政策的"
                        "通知》，要求各县（区）在年度预算中足额安排。", 30) \
        .progress(-230, "市教育局已完成市直学校生均公用经费测算，涉及中职学校2所、普通高中3所、"
                        "公办幼儿园4所，测算结果已报市财政局。", by="unit_a") \
        .progress(-175, "本年度全市一般公共预算教育经费预算安排较上年增长6.8%，其中市本级增长5.2%；"
                        "市直中职、高中、学前生均公用经费已按标准拨付到位，季度监测通报制度已建立"
                        "并通报2次。", 90) \
        .submit(-160) \
        .approve(-150, "office", "佐证材料齐全，经核查整改到位，同意销号。")
    f.ticket("ww1b", assigned=FIRST_TICKETS, lead="620602", deadline=d(-140),
             responsible_person="刘建国（凉州区教育局局长）",
             measures="区财政追加学前教育、普通高中生均公用经费，按季度拨付到校（园）；将生均"
                      "公用经费拨付情况纳入区政府对教育部门的年度考核。",
             target="区属中职、高中、学前生均公用经费按标准足额拨付。") \
        .ack(-315) \
        .progress(-240, "已完成区属学校生均公用经费缺口测算，学前教育缺口1126万元、普通高中缺口"
                        "482万元，已提请区政府常务会议研究。", 40) \
        .progress(-168, "区政府常务会议研究同意追加学前教育生均公用经费1126万元、普通高中482万元，"
                        "已全部拨付到校（园）。", 95) \
        .submit(-158) \
        .approve(-150, "supervisor", "经实地抽查3所幼儿园、2所高中经费到账情况，整改到位，同意销号。",
                 at="16:10")
    f.ticket("ww1c", assigned=FIRST_TICKETS, lead="620621", deadline=d(-140),
             responsible_person="孙建华（民勤县教育局计财股）",
             measures="县财政将中职、高中、学前生均公用经费列入年初预算，按季度拨付；县教育局建立"
                      "分校拨付台账。",
             target="县属各级各类学校生均公用经费按标准足额拨付到位。") \
        .ack(-314) \
        .progress(-220, "县财政已在年初预算中安排中职、高中、学前生均公用经费共计2836万元，上半年"
                        "已拨付1418万元。", 50) \
        .progress(-165, "全年生均公用经费2836万元已全部拨付到校（园），县教育局建立了分校拨付台账。",
                  100) \
        .submit(-156) \
        .approve(-149, "supervisor", "同意销号。") \
        .reopen(-20, "office", "回头看发现县内2所乡镇中心幼儿园第三季度生均公用经费未按时拨付到园，"
                               "整改成效未巩固，重新启动整改。", d(30)) \
        .progress(-12, "已督促县财政局将2所乡镇中心幼儿园第三季度生均公用经费48.6万元拨付到园，正在"
                       "对全县幼儿园拨付情况逐园核对。", 60, planned=d(25))
    f.ticket("ww1d", assigned=FIRST_TICKETS, lead="620622", deadline=d(-140),
             responsible_person="杨永福（古浪县教育局计财股）",
             measures="将学前教育生均公用经费缺口列入县级财政预算，分年度补足；积极争取省级转移"
                      "支付资金。",
             target="县属中职、高中、学前生均公用经费按标准足额拨付。") \
        .ack(-313) \
        .progress(-250, "经测算，县级学前教育生均公用经费缺口约320万元，县级财政收支矛盾突出，已向"
                        "市财政局报送资金困难情况。", 20) \
        .extension(-150, d(4), "县级财政收支矛盾突出，学前教育生均公用经费缺口需列入下年度预算"
                               "解决，申请延长整改时限。") \
        .decide(-146, "office", True, "同意延期。请按月报送整改进展，下年度预算批复后及时拨付。") \
        .progress(-60, "本年度县级预算已安排学前教育生均公用经费缺口资金320万元，已拨付上半年160万元，"
                       "下半年资金拨付手续正在办理。", 70, planned=d(4))

    f = i.finding(
        2, "义务教育资源分布不均衡情况尚存在", category="balance",
        description="城乡教育发展不平衡，“农村弱、城市挤”问题依然存在，城区公办幼儿园相对较少，"
                    "部分城区学校学位紧张、班额偏大，农村学校办学条件相对薄弱。",
        basis="《县域义务教育优质均衡发展督导评估办法》资源配置指标；评价方案“推进义务教育优质均衡"
              "发展”“学前教育普及普惠”相关要求。",
        requirement="通过整合资源，改建、扩建和新建学校，增加城区公办幼儿园园位和中小学学位；学前"
                    "三年毛入园率、九年义务教育巩固率达到评价方案要求。")
    f.ticket("ww2a", assigned=FIRST_TICKETS, lead="6206-JYJ", coop=("6206-CZJ",),
             deadline=d(-30), responsible_person="孙志刚（市教育局副局长）",
             measures="制定城区学位扩容方案，新建、改扩建公办幼儿园和中小学；推进集团化办学和城乡"
                      "学校结对帮扶，缩小城乡、校际差距。",
             target="新增城区公办幼儿园园位和中小学学位，学前三年毛入园率达到评价要求，九年义务教育"
                    "巩固率保持在100%。") \
        .ack(-312) \
        .progress(-200, "制定《武威市城区学位扩容三年行动方案》，计划新建、改扩建公办幼儿园5所、"
                        "中小学3所，项目已列入市政府年度重点工作。", 30) \
        .progress(-90, "全市新增公立幼儿园园位1260个、中小学学位2340个；凉州区第十二幼儿园主体完工，"
                       "学前三年毛入园率达到93.6%，九年义务教育巩固率保持在100%。", 60) \
        .progress(-25, "城区新建2所中小学因征地手续滞后开工推迟，已提请市政府协调自然资源部门加快"
                       "办理，计划年底前完成。", 65, planned=s.year_end) \
        .urge(-20, "office", UrgingLevel.GENERAL, "该项整改已超过整改时限，请于10个工作日内报送城区"
                                                   "新建学校开工计划和倒排工期表。") \
        .acknowledge_urging(-19, "已收悉。城区新建学校开工计划和倒排工期表正在编制，按期报送。")
    f.ticket("ww2b", assigned=FIRST_TICKETS, lead="620602", deadline=d(40),
             responsible_person="刘建国（凉州区教育局局长）",
             measures="扩建凉州区第二幼儿园，推进城区学校改扩建，按划片招生范围分流城区学校学生。",
             target="城区学位供需基本平衡。") \
        .ack(-310) \
        .progress(-180, "凉州区第二幼儿园扩建项目已完成立项和招标，计划新增园位360个。", 30) \
        .progress(-40, "凉州区第二幼儿园扩建主体完工；城区2所小学改扩建新增学位540个，秋季学期已投入"
                       "使用。", 55, planned=d(40))
    f.ticket("ww2c", assigned=FIRST_TICKETS, lead="620621", deadline=d(-120),
             responsible_person="孙建华（民勤县教育局计财股）",
             measures="整合农村小规模学校资源，改善农村学校办学条件；新建县城公办幼儿园1所。",
             target="县城公办园位满足入园需求，农村学校办学条件达到省定标准。") \
        .ack(-311) \
        .progress(-200, "完成6所农村小规模学校校舍维修和设备配备，县城新建幼儿园主体完工。", 60) \
        .progress(-135, "县城新建幼儿园投入使用，新增公办园位270个；农村学校“建宿舍扩食堂增学位"
                        "改厕所”项目全部竣工。", 100) \
        .submit(-130) \
        .approve(-126, "office", "同意销号。")

    f = i.finding(
        3, "师资队伍尚不匹配优质均衡要求", category="teachers",
        description="教师老龄化和结构性短缺问题较为突出，老中青教师比例失衡，农村学校和薄弱学校"
                    "骨干教师短缺，部分学段专任教师学历合格率和职业学校“双师型”教师比例未达到要求。",
        basis="《县域义务教育优质均衡发展督导评估办法》“每百名学生拥有高于规定学历教师数、县级以上"
              "骨干教师数”等指标；《关于全面深化新时代教师队伍建设改革的意见》。",
        requirement="通过急需紧缺人才引进、“特岗计划”和事业单位公开招聘补充教师，实施国家优师、"
                    "国培省培等项目培养培训教师，提高专任教师学历合格率和“双师型”教师比例，向农村"
                    "学校和薄弱学校倾斜配置骨干教师。")
    f.ticket("ww3a", assigned=FIRST_TICKETS, lead="6206-JYJ", coop=("6206-RSJ", "6206-BB"),
             deadline=d(-100), responsible_person="孙志刚（市教育局副局长）",
             measures="通过急需紧缺人才引进、“特岗计划”和事业单位公开招聘补充教师；实施国家优师、"
                      "国培省培项目；推进“县管校聘”和骨干教师向农村学校流动。",
             target="小学、初中、普通高中、中职专任教师学历合格率和“双师型”教师比例达到评价要求。") \
        .ack(-311, at="10:40") \
        .progress(-230, "通过急需紧缺人才引进、“特岗计划”和事业单位公开招聘补充教师226名，实施国培"
                        "省培项目培训教师3150人次。", 40) \
        .extension(-120, d(5), "事业单位公开招聘的186名教师须待秋季学期入职后完成岗位配置，"
                               "“双师型”教师认定由省上统一组织，申请延长整改时限。") \
        .decide(-117, "office", True, "同意延期至秋季学期教师入职并完成认定后。") \
        .progress(-60, "今年共补充教师412名，其中农村学校286名；小学、初中、普通高中、中职专任教师"
                       "学历合格率分别达100%、99.8%、98.6%、95.2%，“双师型”教师达56%。", 90) \
        .submit(-30) \
        .return_(-22, "office", "所附补充教师花名册与编制核定数据不一致，“双师型”教师比例未附认定"
                                "文件，请核实后重新报送。")
    f.ticket("ww3b", assigned=FIRST_TICKETS, lead="620622", deadline=d(-90),
             responsible_person="杨永福（古浪县教育局人事股）",
             measures="招聘特岗教师和公费师范生，实施农村学校骨干教师培养计划，推进城区骨干教师到"
                      "农村学校交流轮岗。",
             target="农村学校骨干教师数量达到优质均衡要求。") \
        .ack(-309) \
        .progress(-150, "招聘特岗教师46名、公费师范生12名，全部分配到农村学校；遴选县级骨干教师"
                        "培养对象60名。", 45) \
        .progress(-100, "城区学校38名骨干教师到农村学校交流轮岗，农村学校县级以上骨干教师较整改前"
                        "增加41名。", 100) \
        .submit(-96) \
        .approve(-92, "supervisor", "经核查交流轮岗名单和骨干教师认定文件，同意销号。")
    f.ticket("ww3c", assigned=-40, lead="6206-CZJ", deadline=d(35),
             responsible_person="赵明（市财政局教科文科科长）",
             measures="核定中小学教职工编制，保障补充紧缺学科教师所需编制和经费。",
             target="中小学教职工编制按标准核定到位。") \
        .decline(-38, "中小学教职工编制核定属市委编办职责，教师招聘由市人社局、市教育局组织，我局"
                      "负责保障新招聘教师工资经费（已列入年度预算），建议改由市委编办牵头、我局配合。")

    f = i.finding(
        4, "技能甘肃落地推进尚不均衡", category="vocational",
        description="“技能甘肃”建设各项任务在各县（区）推进不均衡，“一县一校一中心”建设进度不一，"
                    "“双高”“双优”院校建设有待加快，全市尚无本科层次职业院校，现代职教体系尚不完善。",
        basis="《省部合作整省推进职业教育发展打造“技能甘肃”的意见》及市级任务清单。",
        requirement="制定推动现代职业教育高质量发展加快“技能甘肃”建设实施方案并列入年度考核；推进"
                    "“双高”“双优”院校建设，积极筹办职业技术大学。")
    f.ticket("ww4a", assigned=FIRST_TICKETS, lead="6206-JYJ", coop=("6206-ZYXY",),
             deadline=d(-60), responsible_person="孙志刚（市教育局副局长）",
             measures="制定《关于推动现代职业教育高质量发展加快“技能甘肃”建设实施方案》并列入年度"
                      "考核；推进“双高”“双优”院校建设；积极筹办职业技术大学；各县（区）建成"
                      "“一县一校一中心”。",
             target="现代职教体系基本建成，职业技术大学申办取得实质进展。") \
        .ack(-308) \
        .progress(-240, "市政府已印发《关于推动现代职业教育高质量发展加快“技能甘肃”建设实施方案》"
                        "和年度工作任务清单，并列入对县（区）年度考核。", 30) \
        .progress(-130, "武威职业学院入选全省“双高”计划建设院校，2所中职学校入选“双优”计划；职业"
                        "技术大学申办材料已报省教育厅。", 50) \
        .long_term(-100, "office", "职业技术大学申办通过教育部评议；完成“双高”“双优”院校年度建设"
                                   "任务；“一县一校一中心”覆盖全部县（区）。", d(40), 180) \
        .progress(-45, "职业技术大学申办工作进入教育部批复环节；天祝县职教中心迁建项目主体完工。", 60)

    f = i.finding(
        5, "校园安全存在隐患", category="safety", severity=Severity.SERIOUS,
        description="部分中小学、幼儿园安全防范“4个100%”（专职保安配备、封闭化管理、一键式紧急报警"
                    "和视频监控系统联网、“护学岗”设置）建设任务未全面完成，学生心理健康教育专业力量"
                    "不足，校园及周边安全隐患排查整治不够彻底。",
        basis="《甘肃省中小学校安全条例》；中小学幼儿园安全防范“4个100%”建设要求。",
        requirement="全面完成中小学安全防范“4个100%”建设任务；组建中小学心理健康教育专家库，全面"
                    "开展师生心理健康排查疏导；健全校园安全隐患排查整治长效机制。")
    f.ticket("ww5a", assigned=FIRST_TICKETS, lead="6206-JYJ", coop=("6206-GAJ",),
             deadline=d(-120), responsible_person="周文华（市教育局安全稳定科科长）",
             measures="组建全市中小学心理健康教育专家库，开展师生心理健康排查疏导；会同公安机关开展"
                      "校园及周边安全隐患排查整治。",
             target="心理健康教育专家库建成并发挥作用，校园及周边安全隐患动态清零。") \
        .ack(-307) \
        .progress(-260, "组建武威市中小学心理健康教育专家库，首批入库专家36名；制定师生心理健康排查"
                        "疏导工作方案。", 40) \
        .progress(-200, "完成全市中小学生心理健康筛查12.6万人次，建立重点关注学生台账并落实“一生一策”；"
                        "会同市公安局开展校园周边安全隐患排查整治，整改隐患214处。", 90) \
        .submit(-180) \
        .approve(-176, "supervisor", "同意销号。")
    f.ticket("ww5b", assigned=FIRST_TICKETS, lead="620621", deadline=d(10),
             responsible_person="孙建华（民勤县教育局安全股）",
             measures="补齐专职保安配备、一键式紧急报警和视频监控联网等设施，全面完成安全防范"
                      "“4个100%”建设。",
             target="县属中小学幼儿园安全防范“4个100%”全部达标。") \
        .ack(-306) \
        .progress(-190, "全县中小学幼儿园专职保安配备率、封闭化管理率已达100%，一键式紧急报警装置"
                        "安装完成68%。", 50) \
        .progress(-30, "一键式紧急报警和视频监控系统与公安机关联网率达100%，“护学岗”设置率100%，"
                       "“4个100%”建设任务全面完成。", 95) \
        .submit(-3)
    f.ticket("ww5c", assigned=FIRST_TICKETS, lead="620622", deadline=d(-10),
             responsible_person="杨永福（古浪县教育局安全股）",
             measures="补齐专职保安配备、一键式紧急报警和视频监控联网等设施；完成全县校园安全隐患"
                      "排查整治。",
             target="县属中小学幼儿园安全防范“4个100%”全部达标，排查隐患全部整改。") \
        .ack(-305) \
        .progress(-160, "已完成全县中小学幼儿园安全隐患排查，发现隐患87处，已整改61处；专职保安配备率"
                        "提升至91%。", 40) \
        .extension(-20, d(50), "一键式紧急报警和视频监控联网设备需走政府采购程序，预计45天后方能"
                               "完成安装调试，申请延期。") \
        .decide(-15, "office", False, "安防建设资金已于年初下达，设备采购应按期完成。请倒排工期，"
                                      "尽快完成，不予延期。") \
        .urge(-9, "supervisor", UrgingLevel.IMPORTANT, "安全防范“4个100%”建设已逾期，请县政府"
                                                       "主要负责同志亲自督办，每周报送进展，确保"
                                                       "尽快全面完成。") \
        .acknowledge_urging(-8, "已按要求成立专班，实行周报制度，确保尽快全面完成。") \
        .progress(-6, "政府采购已完成招标，设备进场安装，已完成42所学校；剩余26处隐患正在整改。", 70)

    f = i.finding(
        6, "督导职能落实不能适应教育需求", category="supervision",
        description="市级教育督导规章制度不健全，督学聘任管理、督导结果运用和问责机制尚未建立，"
                    "督导“长牙齿”作用发挥不够，不能适应教育改革发展需要。",
        basis="《关于深化新时代教育督导体制机制改革的意见》；《教育督导问责办法》。",
        requirement="制定《武威市人民政府督导委员会工作规程》《武威市人民政府督学管理办法》《武威市"
                    "教育督导问责实施细则（试行）》等规范性文件，完善督导体制机制，强化督导职能。")
    f.ticket("ww6a", assigned=FIRST_TICKETS, lead="6206-JYJ", deadline=d(-150),
             responsible_person="孙志刚（市教育局副局长）",
             measures="制定督导委员会工作规程、督学管理办法和教育督导问责实施细则；聘任市级督学，"
                      "落实督学工作补助。",
             target="督导制度健全，督导结果运用和问责机制建立。") \
        .ack(-304) \
        .progress(-230, "《武威市人民政府督导委员会工作规程》《武威市人民政府督学管理办法》已经市政府"
                        "常务会议审议通过。", 60) \
        .progress(-190, "印发《武威市教育督导问责实施细则（试行）》，聘任市级兼职督学45名，督学工作"
                        "补助列入年度预算。", 100) \
        .submit(-185) \
        .approve(-170, "office", "同意销号。")


# --- (2) seed 001: the province's evaluation of 临夏州 ------------------------------------

def _linxia_evaluation(s: Story) -> None:
    fed_back = -290
    feedback_on = s.workday(fed_back)
    year = feedback_on.year
    d = s.date
    i = s.inspection(
        "lx", registered=fed_back, by="office", owner="62-JYDD",
        title=f"{year}年对临夏州人民政府履行教育职责评价",
        kind=InspectionKind.EVALUATION, year=year,
        inspected_body="临夏州人民政府", inspecting_body=PROVINCE_OFFICE,
        document_number=f"甘政教督办函〔{year}〕14号",
        feedback_on=feedback_on, default_deadline=d(-100), signoff_levels=1)
    assigned = fed_back + 3

    f = i.finding(
        1, "高中阶段毛入学率低", category="balance",
        description="全州高中阶段毛入学率为81.2%，分别比全省（95%）、全国（91.2%）低13.8个百分点"
                    "和10个百分点。",
        basis="评价方案“普及高中阶段教育”指标：高中阶段毛入学率达到全省平均水平。",
        requirement="加大高中教育普及攻坚力度，加快推进河州中学等建设项目，优化普通高中布局，改善"
                    "普通高中办学条件，高中阶段毛入学率逐年提高。")
    f.ticket("lx1a", assigned=assigned, lead="6229-JYJ", coop=("6229-CZJ",), deadline=d(-100),
             responsible_person="韩国庆（州教育局副局长）",
             measures="加快推进河州中学等普通高中建设项目，扩大普通高中招生规模；完善高中阶段学校"
                      "招生方案，严格执行高中阶段招生政策。",
             target="高中阶段毛入学率逐年提高，力争达到全省平均水平。") \
        .ack(assigned + 2) \
        .progress(-200, "河州中学新校区建设完成主体工程，普通高中招生计划较上年增加1200个。", 30) \
        .extension(-110, d(5), "河州中学新校区须在秋季学期方能投入使用，新增学位的入学率数据需秋季"
                               "开学统计后才能核实，申请延期。") \
        .decide(-104, "office", True, "同意延期。") \
        .progress(-40, "河州中学新校区投入使用，新增普通高中学位2400个；全州高中阶段毛入学率提高到"
                       "86.5%，较整改前提高5.3个百分点。", 80, planned=d(5))
    f.ticket("lx1b", assigned=assigned, lead="622901", deadline=d(-60),
             responsible_person="马丽（临夏市教育局基础教育股）",
             measures="扩建市属普通高中综合楼，增加学位供给。",
             target="市属普通高中学位满足招生需求。") \
        .ack(assigned + 3) \
        .progress(-150, "市属2所普通高中扩建综合楼开工建设，计划新增学位900个。", 50) \
        .progress(-75, "2所高中综合楼投入使用，新增学位900个，市属普通高中大班额全部消除。", 100) \
        .submit(-70) \
        .approve(-64, "office", "同意销号。")

    f = i.finding(
        2, "职业教育发展滞后", category="vocational", severity=Severity.SERIOUS,
        description="州内9所中职学校还没有达到标准化建设要求，受办学条件、师资力量限制，职普比与"
                    "全省4:6、全国5:5的比例相比还有差距，县市职业学校学历教育招生困难。",
        basis="《国家职业教育改革实施方案》；中等职业学校办学能力达标工程；“技能甘肃”各项工作措施。",
        requirement="推进临夏州职业技术学校和各县市“一校一中心”建设，中职学校达到标准化建设要求；"
                    "引导“两后生”接受职业教育，力争职普比达到4:6。")
    f.ticket("lx2a", assigned=assigned, lead="6229-JYJ", coop=("6229-ZYJS",), deadline=d(-15),
             responsible_person="韩国庆（州教育局副局长）",
             measures="推进中职学校办学能力达标工程，分校制定达标计划；持续开展“两后生”接受职业"
                      "教育动员工作。",
             target="9所中职学校达到标准化建设要求，职普比达到4:6。") \
        .ack(assigned + 2, at="10:40") \
        .progress(-180, "9所中职学校标准化建设项目已全部纳入州级规划，分校制定达标计划和资金筹措"
                        "方案。", 40) \
        .progress(-50, "6所中职学校办学条件达到标准化建设要求；动员“两后生”1860人接受职业教育，全州"
                       "职普比提高到4.2:5.8。", 75) \
        .submit(-35) \
        .return_(-28, "office", "职普比数据口径与教育事业统计数据不一致；3所未达标中职学校的建设计划"
                                "和时间表未附，请补充后重新报送。")
    f.ticket("lx2b", assigned=assigned, lead="622922", deadline=d(-60),
             responsible_person="何永强（康乐县教育局职成股）",
             measures="建设县职教中心实训楼，完善实训设备，县职教中心达到“一县一校一中心”建设标准。",
             target="县职教中心办学条件达标。") \
        .ack(assigned + 4) \
        .progress(-140, "县职教中心实训楼完成立项，争取东西协作资金680万元。", 30) \
        .extension(-70, d(75), "县职教中心实训楼受冬季停工期限制，主体工程需延后竣工，申请延期。") \
        .decide(-66, "office", True, "同意延期，请加快建设进度。") \
        .progress(-20, "实训楼主体封顶，实训设备采购已完成招标。", 60)
    f.ticket("lx2c", assigned=assigned, lead="622901", deadline=d(-60),
             measures="推进临夏市中职学校标准化建设。") \
        .cancel(-250, "office", "临夏市域内中职学校由州教育局统筹建设，本任务并入州教育局牵头的整改"
                                "任务办理。")

    f = i.finding(
        3, "教育管理有待加强", category="other",
        description="科学的学校管理制度还未建立，学校管理不精、不细、不规范，管理手段和方法落后，"
                    "管理目标不明确，缺乏连续性和整体性，不适应教育改革发展需要。",
        basis="《义务教育学校管理标准》；《甘肃省深化教育教学改革全面提高义务教育质量实施方案》。",
        requirement="贯彻落实《义务教育学校管理标准》，健全学校管理制度，严格校长任职条件和资格，"
                    "开展学校管理达标评估。")
    f.ticket("lx3a", assigned=assigned, lead="6229-JYJ", deadline=d(-90),
             responsible_person="韩国庆（州教育局副局长）",
             measures="制定《义务教育学校管理标准》实施细则，开展学校管理达标评估；建立校长后备"
                      "人才库。",
             target="义务教育学校管理全面达标。") \
        .ack(assigned + 2, at="11:20") \
        .progress(-200, "印发《临夏州义务教育学校管理标准实施细则》，组织全州中小学对照标准开展"
                        "自查。", 50) \
        .progress(-110, "完成全州312所义务教育学校管理达标评估，建立校长后备人才库，入库156人。", 100) \
        .submit(-100) \
        .approve(-95, "office", "同意销号。")

    f = i.finding(
        4, "教育质量有待提升，教师教育教学水平亟待提高", category="teachers",
        description="州内中小学教育质量普遍不高，教师教育教学水平亟待提升；学前教育教师缺乏，教育"
                    "资源还不能满足群众需求；职业教育缺乏“双师型”教师，学生技能提升空间受到限制。",
        basis="评价方案“教师队伍建设”“教育质量”相关指标。",
        requirement="通过高层次人才引进、特岗计划、事业单位招聘补充紧缺学科教师和幼儿教师；依托东西"
                    "协作深化教研，提升教师教育教学水平；加强“双师型”教师培养。")
    f.ticket("lx4a", assigned=assigned, lead="6229-JYJ", coop=("6229-RSJ", "6229-BB"),
             deadline=d(20), responsible_person="韩国庆（州教育局副局长）",
             measures="通过高层次人才引进、特岗计划和事业单位公开招聘补充紧缺学科教师和幼儿教师；"
                      "依托东西协作引进名优教师和管理团队；加强“双师型”教师培养。",
             target="紧缺学科教师和幼儿教师基本补齐，“双师型”教师比例明显提高。") \
        .ack(assigned + 2, at="15:30") \
        .progress(-190, "依托东西协作引进名优教师及管理团队18人，组织全州教师培训1.2万人次。", 40) \
        .progress(-60, "本年度招录教师680名，其中学前教育专任教师210名；职业学校“双师型”教师占比"
                       "提高到38%；全州中考、高考主要质量指标较上年均有提升。", 90) \
        .submit(-4)
    f.ticket("lx4b", assigned=assigned, lead="622901", deadline=s.mid_next_year,
             planned=s.mid_next_year, responsible_person="马丽（临夏市教育局基础教育股）",
             measures="通过转岗、招录、聘用、培养等方式配齐公办幼儿园专任教师和保育员。",
             target="公办幼儿园专任教师和保育员按标准配齐。") \
        .ack(assigned + 3, at="11:00") \
        .progress(-100, "通过公开招聘和小学富余教师转岗补充幼儿园专任教师64名，招聘保育员40名。", 40)

    f = i.finding(
        5, "普通高中生均一般公共预算教育支出较上年下降", category="funding",
        severity=Severity.SERIOUS,
        description=f"与{year - 2}年比较，{year - 1}年全州普通高中生均一般公共预算教育支出降低2.77%，"
                    "未实现“两个只增不减”要求。",
        basis="《国务院办公厅关于进一步调整优化结构提高教育经费使用效益的意见》“两个只增不减”要求；"
              "评价方案“教育投入”指标。",
        requirement="补足普通高中生均公用经费，确保按在校学生人数平均的一般公共预算教育支出逐年"
                    "只增不减。")
    f.ticket("lx5a", assigned=assigned, lead="6229-CZJ", coop=("6229-JYJ",), deadline=d(-200),
             responsible_person="韩文斌（州财政局教科文科科长）",
             measures="按标准补足普通高中生均公用经费，调整教育支出结构，确保生均支出只增不减。",
             target="普通高中生均一般公共预算教育支出不低于上年。") \
        .ack(assigned + 1) \
        .progress(-230, "已调整州本级支出结构，补足普通高中生均公用经费1380万元。", 60) \
        .submit(-180) \
        .approve(-172, "office", "已整改到位，但超过整改时限才申请销号，予以提醒。")


# --- (3) seed 002 (and seed 000's own evaluation of a district): 武威市 evaluates 凉州区 ------

def _liangzhou_evaluation(s: Story) -> None:
    fed_back = -150
    feedback_on = s.workday(fed_back)
    year = feedback_on.year
    d = s.date
    i = s.inspection(
        "lz", registered=fed_back, by="city_office", owner="6206-JYDD",
        title=f"{year}年对凉州区人民政府履行教育职责评价",
        kind=InspectionKind.EVALUATION, year=year,
        inspected_body="凉州区人民政府", inspecting_body=WUWEI_OFFICE,
        feedback_on=feedback_on, default_deadline=d(30), signoff_levels=2)
    assigned = fed_back + 3

    f = i.finding(
        1, "义务教育及普通高中大班额问题尚未完全消除", category="balance",
        description="义务教育学校及普通高中学校大班额问题主要集中在城区学校；部分学校因“有教室、"
                    "无教师”造成大班额，普通高中因新高考选科后学科配套教师不足造成大班额。",
        basis="消除义务教育大班额专项规划；评价重点“促进和保障教育公平”：义务教育大班额比例、普通"
              "高中大班额数占比。",
        requirement="加快城区学校迁建、新建，按照划片招生范围分流学生；为大班额学校增加教师；起始"
                    "年级全部消除大班额，逐年化解存量大班额。")
    f.ticket("lz1a", assigned=assigned, lead="620602-JYJ", coop=("620602-CZJ",), deadline=d(10),
             responsible_person="陈静（凉州区教育局基础教育科）",
             measures="加快城区初中迁建；按照划片招生范围将大班额学校部分学生分流至新建学校；实行"
                      "“平台招生”，严格控制起始年级班额。",
             target="起始年级全部消除大班额，城区义务教育学校大班额比例降至评价要求以内。") \
        .ack(assigned + 1) \
        .progress(-90, "实行义务教育“平台招生”，起始年级全部消除大班额；将2所城区小学部分学生分流至"
                       "新建学校，城区小学大班额减少18个。", 60) \
        .progress(-25, "城区初中迁建工程主体完工，秋季学期分流学生620名；全区义务教育大班额比例降至"
                       "2.1%。", 100) \
        .submit(-8) \
        .approve(-3, "supervisor", "经实地核查班额数据，初审通过，报市督导室终审。")
    f.ticket("lz1b", assigned=assigned, lead="620602", coop=("620602-JYJ",), deadline=d(2),
             responsible_person="刘建国（凉州区教育局局长）",
             measures="为“有教室、无教师”的大班额学校增加教师；向区委区政府报告增加普通高中学科"
                      "教师计划。",
             target="化解因教师不足造成的大班额。") \
        .ack(assigned + 2) \
        .progress(-60, "通过公开招聘和城乡教师交流为城区4所大班额小学补充教师32名。", 50) \
        .progress(-14, "普通高中增加学科教师计划已经区委编委会研究同意，18名教师招聘公告已发布。", 70,
                  planned=d(2))

    f = i.finding(
        2, "学前教育普及普惠水平不高，城乡公办园分布不均", category="balance", repeats="ww.2",
        description="城区公办幼儿园数量少，不能满足城区幼儿入园需求；农村公办园专任教师少，保教设备"
                    "不足，办园条件较差；城镇小区配套幼儿园建设与管理不到位。",
        basis="《县域学前教育普及普惠督导评估办法》；评价重点“学前教育普及普惠”：公办园在园幼儿"
              "占比、普惠性幼儿园覆盖率。",
        requirement="加快新建、扩建公办幼儿园，开展城镇小区配套幼儿园专项治理；逐步配齐配足公办园"
                    "教职工，改善农村公办园办园条件，扩大公办园在园幼儿占比。")
    f.ticket("lz2a", assigned=assigned, lead="620602-JYJ", deadline=s.mid_next_year,
             planned=s.mid_next_year, responsible_person="陈静（凉州区教育局基础教育科）",
             measures="新建凉州区第十二幼儿园，扩建凉州区第二幼儿园；制定城镇小区配建幼儿园治理工作"
                      "方案，建立台账，逐个落实。",
             target="城区公办园位满足入园需求，公办园在园幼儿占比达到评估要求。") \
        .ack(assigned + 2) \
        .progress(-70, "凉州区第十二幼儿园项目开工建设；完成城镇小区配套幼儿园专项排查，建立台账，"
                       "需整改的7所已制定“一园一策”。", 35)
    f.ticket("lz2b", assigned=assigned, lead="620602", coop=("620602-BB",), deadline=d(-30),
             responsible_person="刘建国（凉州区教育局局长）",
             measures="核增公办幼儿园教职工编制，通过公开招聘、转岗补充农村公办园专任教师，改善农村"
                      "公办园保教设备。",
             target="农村公办园专任教师按标准配齐，保教设备达标。") \
        .ack(assigned + 3) \
        .progress(-80, "区委编办核增公办幼儿园教职工编制86名，公开招聘幼儿园专任教师52名。", 80) \
        .progress(-55, "新招聘教师全部分配到农村公办园，为26所农村公办园配备保教设备，农村公办园"
                       "专任教师缺口基本补齐。", 100) \
        .submit(-50) \
        .approve(-45, "supervisor", "初审通过。") \
        .approve(-40, "city_office", "终审通过，同意销号。")

    f = i.finding(
        3, "义务教育教师奖励性补贴未纳入预算安排", category="funding",
        description="区级财政对公务员和义务教育学校教师的奖励性补贴均暂未预算安排，义务教育教师平均"
                    "工资收入不低于当地公务员平均工资收入的长效联动机制不健全。",
        basis="《中华人民共和国教师法》关于教师平均工资水平不低于当地公务员平均工资水平的规定；评价"
              "重点“加强教师队伍建设”。",
        requirement="将义务教育教师奖励性补贴纳入区级财政预算并足额发放，建立教师工资与公务员工资"
                    "长效联动机制。")
    f.ticket("lz3a", assigned=assigned, lead="620602", coop=("620602-CZJ",), deadline=d(-5),
             responsible_person="刘建国（凉州区教育局局长）",
             measures="将义务教育教师奖励性补贴纳入区级财政预算，按标准足额发放；建立教师工资长效"
                      "联动机制。",
             target="义务教育教师平均工资收入不低于当地公务员平均工资收入。") \
        .ack(assigned + 4) \
        .progress(-60, "区财政已将义务教育教师奖励性补贴纳入年度追加预算，首批补贴已发放。", 80) \
        .submit(-20) \
        .return_(-14, "supervisor", "未附区财政局预算批复文件和补贴发放明细，长效联动机制文件尚未"
                                    "印发，请补充后重新报送。") \
        .urge(-4, "city_office", UrgingLevel.GENERAL, "退回补充材料已逾期，请尽快补齐区财政局预算"
                                                      "批复文件和补贴发放明细后重新报送。")

    f = i.finding(
        4, "主任督学、副主任督学职数尚未核定", category="supervision",
        description="区人民政府教育督导机构主任督学、副主任督学职数尚未核定，专职督学力量不足，责任"
                    "督学挂牌督导工作保障不到位。",
        basis="《关于深化新时代教育督导体制机制改革的意见》关于健全教育督导机构、配齐配强督学队伍"
              "的要求。",
        requirement="核定主任督学、副主任督学职数并配备到位，配齐专职督学，落实督导工作经费和督学"
                    "工作补助。")
    f.ticket("lz4a", assigned=assigned, lead="620602", coop=("620602-BB",), deadline=d(-2),
             responsible_person="刘建国（凉州区教育局局长）",
             measures="向区委编办呈报设置主任督学、副主任督学职数的请示，配齐专职督学。",
             target="主任督学、副主任督学职数核定并配备到位。") \
        .ack(assigned + 4, at="10:40") \
        .progress(-100, "已向区委编办呈报《关于设置主任督学、副主任督学职数的请示》，区委编办已受理。",
                  30) \
        .extension(-6, d(60), "职数核定需提交区委编委会研究，会议计划下月召开，申请延长整改时限。")


# --- (4) seed 000: 武威市's special inspection of school catering ---------------------------

def _wuwei_catering_inspection(s: Story) -> None:
    fed_back = -12
    feedback_on = s.workday(fed_back)
    year = feedback_on.year
    d = s.date
    i = s.inspection(
        "cy", registered=fed_back, by="city_office", owner="6206-JYDD",
        title=f"{year}年全市学校餐饮保障突出问题专项整治督查",
        kind=InspectionKind.ONSITE, year=year,
        inspected_body="武威市各县（区）人民政府及市直有关部门", inspecting_body=WUWEI_OFFICE,
        feedback_on=feedback_on, default_deadline=d(48), signoff_levels=1)
    assigned = -10

    f = i.finding(
        1, "部分学校食品安全校长（园长）负责制和陪餐制度落实不到位", category="catering",
        description="督查发现部分农村学校未建立食品安全校长（园长）负责制，学校负责人陪餐记录不全，"
                    "膳食委员会未发挥作用。",
        basis="《学校食品安全与营养健康管理规定》。",
        requirement="全面落实食品安全校长（园长）负责制和学校负责人陪餐制度，建立膳食委员会，陪餐"
                    "记录完整可查。")
    f.ticket("cy1a", assigned=assigned, lead="6206-JYJ", coop=("6206-SCJGJ",), deadline=d(48),
             responsible_person="周文华（市教育局安全稳定科科长）",
             measures="制定全市学校食品安全校长（园长）负责制和陪餐制度落实方案，会同市场监管部门"
                      "开展专项检查。",
             target="全市中小学幼儿园食品安全校长（园长）负责制和陪餐制度全面落实。")
    f.ticket("cy1b", assigned=assigned, lead="620621", deadline=d(48),
             responsible_person="孙建华（民勤县教育局安全股）",
             measures="对全县学校陪餐制度落实情况开展自查，补建陪餐记录，成立膳食委员会。",
             target="县属学校陪餐制度全面落实。") \
        .ack(-8) \
        .progress(-3, "已对全县58所中小学幼儿园陪餐制度落实情况开展自查，补建陪餐记录，12所学校"
                      "成立了膳食委员会。", 30)

    f = i.finding(
        2, "部分学校食堂“互联网+明厨亮灶”建设覆盖不全", category="catering",
        description="部分农村学校食堂未实现“互联网+明厨亮灶”，后厨操作过程不能实时监控，食品留样"
                    "不规范。",
        basis="《学校食品安全与营养健康管理规定》；“互联网+明厨亮灶”建设要求。",
        requirement="实现学校食堂“互联网+明厨亮灶”全覆盖并接入监管平台，规范食品留样。",
        evidence=("食堂“互联网+明厨亮灶”建设验收记录", "监管平台接入截图"))
    f.ticket("cy2a", assigned=assigned, lead="620622", deadline=d(48),
             responsible_person="杨永福（古浪县教育局安全股）",
             measures="为未覆盖的农村学校食堂安装“互联网+明厨亮灶”设备并接入监管平台。",
             target="县属学校食堂“互联网+明厨亮灶”全覆盖。")
    f.ticket("cy2b", assigned=assigned, lead="620602", deadline=d(48),
             responsible_person="刘建国（凉州区教育局局长）",
             measures="为未覆盖的农村学校食堂安装“互联网+明厨亮灶”设备并接入监管平台；规范食品留样。",
             target="区属学校食堂“互联网+明厨亮灶”全覆盖。") \
        .ack(-7)
