/* The customer information system (客户信息系统, CIS): POST /cis/person
 *   {"idNo":"11010519491231002X"}
 * answers {"code":"0000","message":"成功","name":…,"mobile":…,"address":…,
 * "occupation":…} for a person it knows, and {"code":"1001","message":
 * "查无此人"} (HTTP 200: a business answer) for one it does not; a missing
 * or over-long idNo is 400 with code 4000. Its data is a fixed table: the
 * demo identities every simulator shares (docs/egress.md) and the ID
 * numbers the integration tests use. Occupation codes are the platform's
 * (business/customer_profile.h). Runs in the HTTP simulator (sim_http.c),
 * with its faults. */
#include "sim.h"

#include <jansson.h>
#include <string.h>

static const struct {
    const char *id_no, *name, *mobile, *address, *occupation;
} PEOPLE[] = {
    {"110101199003077578", "张三", "13800138000", "北京市东城区景山前街4号", "employee"},
    {"310104198807163222", "欧阳娜娜", "13912345678", "上海市徐汇区漕溪北路88号", "teacher"},
    {"440106197512254411", "李四", "13600001111", "广州市天河区天河路385号", "self_employed"},
    {"11010519491231002X", "王秀英", "13700137000", "北京市朝阳区和平街十一区8号楼", "retired"},
    {"330102199001011234", "陈志强", "15857100001", "浙江省杭州市上城区青山县城关镇河东村3组5号",
     "farmer"},
    {"520102197805050024", "杨玉梅", "18985000024", "贵州省贵阳市南明区花果园大街12号", "medical"},
};

json_t *sim_cis_person(json_t *in, unsigned *status)
{
    const char *id = json_string_value(json_object_get(in, "idNo"));
    if (!id || strlen(id) > 18) {
        *status = 400;
        return json_pack("{s:s,s:s}", "code", "4000", "message", "参数错误");
    }
    for (size_t i = 0; i < sizeof PEOPLE / sizeof PEOPLE[0]; i++)
        if (strcmp(PEOPLE[i].id_no, id) == 0)
            return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "code", "0000", "message", "成功", "name",
                             PEOPLE[i].name, "mobile", PEOPLE[i].mobile, "address",
                             PEOPLE[i].address, "occupation", PEOPLE[i].occupation);
    return json_pack("{s:s,s:s}", "code", "1001", "message", "查无此人");
}
